/**
 * The application's pipeline as one typed model (the original document's §1 stages): the
 * workflows are generated from it, and the rulesets' required checks are read back from those
 * workflow files (proposal.ts), so a required check always names a job that runs.
 */
import { escEnvironmentName } from "../config/esc";

export type Stage = "quality" | "security" | "test" | "build" | "integration" | "performance" | "promotion";

export interface PipelineJob {
  /** The job's key in its workflow. */
  id: string;
  /** The check name GitHub shows (for a matrix, each value is appended in parentheses). */
  name: string;
  stage: Stage;
  /** The Rust toolchains a matrix job runs on. */
  matrix?: string[];
  /** Must pass before a pull request may merge. */
  gatesMerge: boolean;
}

/** The pull-request pipeline: quality, security, the test matrix, the image build, integration. */
export const PIPELINE: PipelineJob[] = [
  { id: "format", name: "format", stage: "quality", gatesMerge: true },
  { id: "lint", name: "lint", stage: "quality", gatesMerge: true },
  { id: "docs", name: "docs", stage: "quality", gatesMerge: true },
  { id: "licenses", name: "licenses", stage: "quality", gatesMerge: true },
  { id: "dependency-audit", name: "dependency-audit", stage: "security", gatesMerge: true },
  { id: "secret-scan", name: "secret-scan", stage: "security", gatesMerge: true },
  { id: "static-analysis", name: "static-analysis", stage: "security", gatesMerge: true },
  { id: "test", name: "test", stage: "test", matrix: ["stable", "beta"], gatesMerge: true },
  { id: "container-build", name: "container-build", stage: "build", gatesMerge: true },
  { id: "container-scan", name: "container-scan", stage: "security", gatesMerge: true },
  { id: "integration", name: "integration", stage: "integration", gatesMerge: true },
  { id: "e2e", name: "e2e", stage: "integration", gatesMerge: true },
  { id: "benchmarks", name: "benchmarks", stage: "performance", gatesMerge: false },
];

/**
 * A release: a tag on a commit of main in the application repository. The release workflow runs
 * on the tag and takes it through the environments in order, so each environment accepts exactly
 * that tag pattern, and the tag ruleset lets only release managers create one.
 */
export const RELEASE = {
  /** The tags that are releases, as a workflow filter and an environment's tag policy. */
  tagPattern: "v*.*.*",
  /** The refs the tag ruleset protects (GitHub's fnmatch on the full ref name). */
  tagRefs: "refs/tags/v*",
  /** Where a release goes, in this order; production needs staging to have taken it. */
  environments: ["staging", "production"],
} as const;

/**
 * The longest a token exchanged by a release job may live. The job exchanges again before its token
 * expires (releaseScript.ts), so a health wait longer than this still holds a valid token.
 */
export const RELEASE_TOKEN_SECONDS = 7200;

export type ReleaseEnvironment = (typeof RELEASE.environments)[number];

/** The refs an environment accepts deployments from: the release tags its jobs run on. */
export function deploymentSources(_environment: ReleaseEnvironment): { tagPattern: string }[] {
  return [{ tagPattern: RELEASE.tagPattern }];
}

/**
 * The Pulumi Cloud team a release job of this environment acts as (its token exchanged for the job's
 * GitHub OIDC token): write on that environment's release record and its app stack, nothing else.
 */
export function releaseTeam(environment: ReleaseEnvironment): string {
  return `doc-rag-release-${environment}`;
}

/** The ESC environment (in the stack's project) that records the release a stack runs. */
export function releaseEnvironmentName(stack: string): string {
  return escEnvironmentName(stack, "release");
}

/**
 * Every `vars.*` and `secrets.*` the generated workflows read, and who provides it: GitHub itself,
 * the program (an environment variable or secret it creates), or a person (the README says how).
 */
export const WORKFLOW_INPUTS: Record<string, { providedBy: "github" | "program" | "hand"; what: string }> = {
  "secrets.GITHUB_TOKEN": { providedBy: "github", what: "the run's own token (its permissions are the job's)" },
  "vars.PULUMI_ORGANIZATION": {
    providedBy: "program",
    what: "variable of the staging and production environments: the stack's Pulumi Cloud organization",
  },
  "vars.PULUMI_PROJECT": {
    providedBy: "program",
    what: "variable of the staging and production environments: the Pulumi project a release deploys (doc-rag-app)",
  },
  "vars.PULUMI_ESC_PROJECT": {
    providedBy: "program",
    what: "variable of the staging and production environments: the ESC project of the stack's environments (doc-rag)",
  },
};
