/** The application repository's governance on GitHub, per stack (none in dev). */
import { z } from "zod";
import { strictObject } from "./primitives";
import { GITHUB_PLANS, REPOSITORY_VISIBILITIES } from "../governance/plan";

const slug = z
  .string({ error: "must be a string" })
  .regex(/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/, "must be a GitHub name (letters, digits, -)");

/** A GitHub Actions variable or secret name; GitHub reserves the GITHUB_ prefix. */
const actionsName = z
  .string()
  .regex(/^[A-Z][A-Z0-9_]*$/, "must be an UPPER_SNAKE_CASE name")
  .refine((n) => !n.startsWith("GITHUB_"), "must not start with GITHUB_: GitHub reserves that prefix");

/**
 * The environment variables the program sets itself (the release workflow reads them to pick the stack
 * it deploys), and where each comes from: `github.variables` may not replace them.
 */
export const PROGRAM_VARIABLES = {
  ENVIRONMENT: "doc-rag:environment",
  PULUMI_ORGANIZATION: "the stack's Pulumi organization",
  PULUMI_PROJECT: "the Pulumi project a release deploys (doc-rag-app)",
  PULUMI_ESC_PROJECT: "the ESC project of the stack's environments (doc-rag)",
} as const;

const userVariableName = actionsName.superRefine((name, ctx) => {
  if (Object.hasOwn(PROGRAM_VARIABLES, name))
    ctx.addIssue({
      code: "custom",
      message: `must not be set: the program sets ${name} itself from ${PROGRAM_VARIABLES[name as keyof typeof PROGRAM_VARIABLES]}, and the release workflow picks its target by it`,
    });
});

export const githubSchema = strictObject({
  owner: slug.default("doc-rag"),
  repository: z
    .string({ error: "must be a string" })
    .regex(/^[A-Za-z0-9._-]+$/, "must be a repository name")
    .default("doc-rag"),
  /** The organization's GitHub plan: what it can enforce on the repository (governance/plan.ts). */
  plan: z.enum(GITHUB_PLANS, { error: `must be one of ${GITHUB_PLANS.join(", ")} (the organization's GitHub plan)` }),
  visibility: z
    .enum(REPOSITORY_VISIBILITIES, { error: `must be one of ${REPOSITORY_VISIBILITIES.join(", ")}` })
    .default("private"),
  /** The organization has GitHub Advanced Security (Secret Protection): secret scanning on a private repository. */
  advancedSecurity: z.boolean({ error: "must be true or false" }).default(false),
  /** Repository-wide settings and rulesets: exactly one stack may own them. */
  manageRepository: z.boolean({ error: "must be true or false" }).optional(),
  /** Teams (slugs) who may create release tags (v*); without any, the repository's admins. */
  releaseManagers: z.array(slug).max(10, "must list at most 10 teams").default([]),
  /** Teams (slugs) whose approval a deployment to this environment needs. */
  reviewers: z.array(slug).max(6, "must list at most 6 teams (GitHub's limit)").default([]),
  waitTimerMinutes: z.number().int().min(0).max(43200, "must be between 0 and 43200").default(0),
  /** Plain environment variables of this stack's environment. */
  variables: z.record(userVariableName, z.string()).default({}),
  /**
   * Propose the generated workflow files (and CODEOWNERS) in a pull request the program opens; the
   * rulesets require the checks those workflows produce, so without them no check is required.
   */
  commitWorkflows: z.boolean({ error: "must be true or false" }).default(true),
  /** Teams that own the code (the CODEOWNERS file's default owners). */
  codeOwners: z.array(slug).min(1, "must name at least one team").default(["platform"]),
});

export type GithubConfig = z.output<typeof githubSchema>;

/** Environment secrets from secret config: name → value. */
export const environmentSecretsSchema = z.record(actionsName, z.string().min(1, "must not be empty"));
