/**
 * Config of the small deployments program (`deployments/`), which manages Pulumi Deployments
 * for the platform's stacks from a stack of its own: a stack must not manage its own settings.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { ConfigError } from "./index";
import { cronSchedule, strictObject } from "./primitives";
import { formatIssue } from "./problems";

export const DEPLOYMENTS_PROJECT = "doc-rag-deployments";

const deploymentsSchema = strictObject({
  organization: z.string({ error: "must be the Pulumi Cloud organization" }).min(1, "must not be empty"),
  /** The platform program's project and the stacks it deploys. */
  project: z.string().min(1).default("doc-rag"),
  /** This repository on GitHub (owner/name), where Deployments fetch the program. */
  repository: z
    .string({ error: "must be a string" })
    .regex(/^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/, "must be owner/name")
    .default("doc-rag/doc-rag-platform"),
  branch: z.string().min(1).default("main"),
  /** When drift detection runs (cron, UTC). */
  driftSchedule: cronSchedule("0 */6 * * *").default("0 */6 * * *"),
});

export type DeploymentsConfig = z.output<typeof deploymentsSchema>;

/** Validates `doc-rag-deployments:*` config; throws a ConfigError naming every bad key and value. */
export function parseDeploymentsConfig(raw: Record<string, string>): DeploymentsConfig {
  const values: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const [namespace, name] = key.split(":", 2);
    if (namespace !== DEPLOYMENTS_PROJECT || !name) continue;
    try {
      values[name] = JSON.parse(value);
    } catch {
      values[name] = value;
    }
  }
  const result = deploymentsSchema.safeParse(values, { reportInput: true });
  if (result.success) return result.data;
  throw new ConfigError(result.error.issues.map((issue) => formatIssue(issue, DEPLOYMENTS_PROJECT)));
}

export function loadDeploymentsConfig(): DeploymentsConfig {
  return parseDeploymentsConfig(pulumi.runtime.allConfig());
}
