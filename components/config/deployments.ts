/**
 * Config of the small deployments program (`deployments/`), which manages Pulumi Deployments
 * for the platform's stacks from a stack of its own: a stack must not manage its own settings.
 */
import { z } from "zod";
import { ConfigError, runtimeConfig } from "./index";
import { cronSchedule, strictObject } from "./primitives";
import { formatIssue } from "./problems";
import { LAYERS, type Layer } from "../environment/projects";

/** Which credentials each project's deployments may hold (components/governance/deployments.ts). */
export const CREDENTIAL_NAMES: Readonly<Record<Layer, readonly string[]>> = {
  cluster: ["KUBECONFIG", "VAULT_TOKEN"],
  data: ["KUBECONFIG"],
  app: ["KUBECONFIG"],
  governance: ["GITHUB_TOKEN"],
};

/** One project's credentials: only the names it may hold, each a non-empty value. */
const projectCredentials = (layer: Layer) =>
  z.record(z.string(), z.string().min(1, "must not be empty")).superRefine((vars, ctx) => {
    for (const name of Object.keys(vars)) {
      if (name === "PULUMI_ACCESS_TOKEN")
        ctx.addIssue({
          code: "custom",
          path: [name],
          message: `is set by the program: the ${layer} project's deployments run as their own team's token (components/governance/identities.ts), with read on exactly the stacks they reference and open on what their stack file imports`,
        });
      else if (!CREDENTIAL_NAMES[layer].includes(name))
        ctx.addIssue({
          code: "custom",
          path: [name],
          message: `is not a credential the ${layer} project may hold (it may hold ${CREDENTIAL_NAMES[layer].join(", ")})`,
        });
    }
  });

const stackCredentials = strictObject(
  Object.fromEntries(LAYERS.map((layer) => [layer, projectCredentials(layer).optional()])) as Record<
    Layer,
    z.ZodOptional<ReturnType<typeof projectCredentials>>
  >,
);

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
  /** The application repository on GitHub (owner/name), whose release jobs act as the per-stage teams. */
  applicationRepository: z
    .string({ error: "must be a string" })
    .regex(/^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/, "must be owner/name")
    .default("doc-rag/doc-rag"),
  /** When drift detection runs (cron, UTC). */
  driftSchedule: cronSchedule("0 */6 * * *").default("0 */6 * * *"),
  /**
   * Each deployed stack's credentials by project, as environment variables of its deployments
   * (set with --secret): stack → project → name → value.
   */
  credentials: strictObject({ staging: stackCredentials.optional(), production: stackCredentials.optional() }).default(
    {},
  ),
});

export type DeploymentsConfig = z.output<typeof deploymentsSchema>;

/** Validates `doc-rag-deployments:*` config; throws a ConfigError naming every bad key and value. */
export function parseDeploymentsConfig(
  raw: Record<string, string>,
  secretKeys: ReadonlySet<string> = new Set(),
): DeploymentsConfig {
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
  // A credential is never echoed: the credentials key is secret whether or not it was set so.
  const hidden = (key: string) => key === "credentials" || secretKeys.has(`${DEPLOYMENTS_PROJECT}:${key}`);
  throw new ConfigError(result.error.issues.map((issue) => formatIssue(issue, DEPLOYMENTS_PROJECT, hidden)));
}

export function loadDeploymentsConfig(): DeploymentsConfig {
  const { raw, secretKeys } = runtimeConfig();
  return parseDeploymentsConfig(raw, secretKeys);
}
