/** Reading GitHub workflows as GitHub does: what they use, which refs they run on, what they read. */
import { minimatch } from "minimatch";
import { parse } from "yaml";

export interface Workflow {
  on: Record<string, unknown> | string | string[];
  permissions?: Record<string, string>;
  defaults?: { run?: { shell?: string } };
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

export interface Job {
  if?: string;
  environment?: string | { name: string };
  permissions?: Record<string, string>;
  defaults?: { run?: { shell?: string } };
  env?: Record<string, string>;
  steps?: {
    uses?: string;
    run?: string;
    shell?: string;
    with?: Record<string, unknown>;
    env?: Record<string, string>;
  }[];
}

export const parseWorkflow = (text: string): Workflow => parse(text) as Workflow;

/** Every `uses:` with the comment beside it: `owner/name@sha # tag`. */
export function usesOf(text: string): { action: string; ref: string; comment?: string }[] {
  return [...text.matchAll(/uses:\s*([^@\s#]+)@(\S+)(?:[ \t]*#[ \t]*(\S+))?/g)].map((m) => ({
    action: m[1]!,
    ref: m[2]!,
    ...(m[3] ? { comment: m[3] } : {}),
  }));
}

/** Container images a workflow runs with `docker run`: the first argument that is neither an option nor its value. */
export function dockerImagesOf(text: string): string[] {
  return [
    ...text.matchAll(/docker run((?:\s+(?:--?[\w-]+(?:[= ](?:"[^"]*"|[^\s"-]\S*))?))*)\s+([\w./-]+[:@]\S+)/g),
  ].map((m) => m[2]!);
}

/** `vars.X` and `secrets.X` a text reads in expressions. */
export function contextReads(text: string): string[] {
  return [...new Set([...text.matchAll(/\$\{\{[^}]*?\b((?:vars|secrets)\.\w+)/g)].map((m) => m[1]!))].sort();
}

export const environmentOf = (job: Job): string | undefined =>
  typeof job.environment === "string" ? job.environment : job.environment?.name;

/** The events that trigger a workflow, by name. */
export function triggers(workflow: Workflow): Record<string, Record<string, unknown>> {
  const on = workflow.on;
  if (typeof on === "string") return { [on]: {} };
  if (Array.isArray(on)) return Object.fromEntries(on.map((e) => [e, {}]));
  return Object.fromEntries(Object.entries(on).map(([e, v]) => [e, (v ?? {}) as Record<string, unknown>]));
}

/** Runs on code a pull request brings (whatever branch it is from). */
export const runsPullRequestCode = (workflow: Workflow): boolean =>
  Object.keys(triggers(workflow)).some((e) => e === "pull_request" || e === "pull_request_target");

/**
 * The refs a workflow's runs carry, as samples: a pattern's `*` stands for "1". A trigger with no
 * filter, or one no deployment policy can match (a pull request, a manual dispatch from any
 * branch), yields a ref no tag or branch policy accepts.
 */
export function sampleRefs(workflow: Workflow): string[] {
  const refs: string[] = [];
  for (const [event, filter] of Object.entries(triggers(workflow))) {
    if (event === "push") {
      const tags = (filter["tags"] as string[] | undefined) ?? [];
      const branches = (filter["branches"] as string[] | undefined) ?? [];
      if (!tags.length && !branches.length) refs.push("refs/heads/any-branch");
      refs.push(...tags.map((t) => `refs/tags/${t.replaceAll("*", "1")}`));
      refs.push(...branches.map((b) => `refs/heads/${b.replaceAll("*", "1")}`));
    } else if (event === "pull_request" || event === "pull_request_target") refs.push("refs/pull/1/merge");
    else refs.push(`(${event}: any ref)`);
  }
  return refs;
}

export interface DeploymentPolicy {
  branchPattern?: string;
  tagPattern?: string;
}

/** Whether an environment's custom deployment policies accept a ref (GitHub matches them with fnmatch). */
export function accepts(policies: DeploymentPolicy[], ref: string): boolean {
  const tag = /^refs\/tags\/(.+)$/.exec(ref)?.[1];
  const branch = /^refs\/heads\/(.+)$/.exec(ref)?.[1];
  return policies.some(
    (p) =>
      (tag !== undefined && p.tagPattern !== undefined && minimatch(tag, p.tagPattern)) ||
      (branch !== undefined && p.branchPattern !== undefined && minimatch(branch, p.branchPattern)),
  );
}

/** Jobs that name an environment and the refs they run on that the environment refuses. */
export function refusedDeployments(
  workflows: Record<string, Workflow>,
  policies: Record<string, DeploymentPolicy[]>,
): string[] {
  const problems: string[] = [];
  for (const [file, workflow] of Object.entries(workflows)) {
    for (const [id, job] of Object.entries(workflow.jobs)) {
      const env = environmentOf(job);
      if (!env) continue;
      for (const ref of sampleRefs(workflow))
        if (!accepts(policies[env] ?? [], ref)) problems.push(`${file} ${id}: environment ${env} refuses ${ref}`);
    }
  }
  return problems;
}

/**
 * The threat model of pull requests: a job that runs a pull request's code may read no secret but
 * the run's own token, unless a reviewer approved the run (an environment in `reviewed`) and the
 * pull request is not from a fork; and such a job restores no dependency cache beside the secret.
 */
export function pullRequestSecretProblems(files: Record<string, string>, reviewed: string[]): string[] {
  const problems: string[] = [];
  for (const [file, text] of Object.entries(files)) {
    const workflow = parseWorkflow(text);
    if (!runsPullRequestCode(workflow)) continue;
    if ("pull_request_target" in triggers(workflow)) problems.push(`${file}: runs on pull_request_target`);
    if (contextReads(JSON.stringify(workflow.env ?? {})).length) problems.push(`${file}: secrets at workflow level`);
    for (const [id, job] of Object.entries(workflow.jobs)) {
      const secrets = contextReads(JSON.stringify(job)).filter(
        (r) => r.startsWith("secrets.") && r !== "secrets.GITHUB_TOKEN",
      );
      if (!secrets.length) continue;
      const env = environmentOf(job);
      if (!env || !reviewed.includes(env))
        problems.push(`${file} ${id}: reads ${secrets.join(", ")} without a reviewer's approval`);
      if (!excludesForks(job.if)) problems.push(`${file} ${id}: reads ${secrets.join(", ")} for forks too`);
      for (const step of job.steps ?? [])
        if (step.uses?.startsWith("actions/setup-node@") && step.with?.["package-manager-cache"] !== false)
          problems.push(`${file} ${id}: restores a dependency cache beside a secret`);
    }
  }
  return problems;
}

/** The condition that keeps a job from running for a fork's pull request. */
export const FORKS_EXCLUDED = "github.event.pull_request.head.repo.full_name == github.repository";

/** A job condition that holds only without a fork: FORKS_EXCLUDED, alone or as one of conditions all required (&&). */
function excludesForks(condition: string | undefined): boolean {
  if (!condition || /\|\||!\s*\(/.test(condition)) return condition === FORKS_EXCLUDED;
  return condition.split("&&").some((part) => part.trim() === FORKS_EXCLUDED);
}
