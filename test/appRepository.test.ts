/**
 * The application repository as the program leaves it, built from what staging and production
 * register (files, rulesets, environments): its pull requests can pass, the program's own writes
 * need no bypass, and a release tag's jobs run where their environments accept them.
 */
import * as assert from "node:assert/strict";
import { minimatch } from "minimatch";
import { parse } from "yaml";
import { ofType, runStack, type StackRun, type Values } from "./harness";

const FILE = "github:index/repositoryFile:RepositoryFile";
const PULL_REQUEST = "github:index/repositoryPullRequest:RepositoryPullRequest";
const RULESET = "github:index/repositoryRuleset:RepositoryRuleset";
const ENVIRONMENT = "github:index/repositoryEnvironment:RepositoryEnvironment";
const POLICY = "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy";

interface Workflow {
  on: Record<string, { branches?: string[]; tags?: string[] } | null>;
  jobs: Record<string, { name?: string; environment?: string; strategy?: { matrix: Record<string, string[]> } }>;
}

/** The repository after the program's pull request is merged: rulesets, environments, main's files. */
interface Repository {
  rulesets: Values[];
  environments: Map<string, { tagPatterns: string[]; branchPatterns: string[] }>;
  main: Map<string, string>;
  /** Every branch the program itself commits to. */
  writes: string[];
}

function repositoryOf(runs: StackRun[]): Repository {
  const all = <T = Values>(type: string) => runs.flatMap((run) => ofType(run, type).map((r) => r.inputs as T));
  const pulls = all(PULL_REQUEST);
  const files = all(FILE);
  const main = new Map<string, string>();
  for (const pull of pulls) {
    assert.equal(pull["baseRef"], "main");
    for (const f of files.filter((f) => f["branch"] === pull["headRef"])) main.set(f["file"], f["content"]);
  }
  const environments = new Map<string, { tagPatterns: string[]; branchPatterns: string[] }>();
  for (const env of all(ENVIRONMENT)) {
    const policies = all(POLICY).filter((p) => p["environment"] === env["environment"]);
    environments.set(env["environment"], {
      tagPatterns: policies.flatMap((p) => (p["tagPattern"] ? [p["tagPattern"]] : [])),
      branchPatterns: policies.flatMap((p) => (p["branchPattern"] ? [p["branchPattern"]] : [])),
    });
  }
  return { rulesets: all(RULESET), environments, main, writes: files.map((f) => f["branch"]) };
}

/** The rulesets of a target whose conditions include the ref (GitHub matches with fnmatch). */
const rulesetsOn = (repo: Repository, target: "branch" | "tag", ref: string) =>
  repo.rulesets.filter(
    (r) =>
      r["target"] === target &&
      (r["conditions"].refName.includes as string[]).some((pattern) => minimatch(ref, pattern)) &&
      !(r["conditions"].refName.excludes as string[]).some((pattern) => minimatch(ref, pattern)),
  );

describe("the application repository as the program leaves it", () => {
  let repo: Repository;
  let runs: StackRun[];
  before(async () => {
    runs = await Promise.all(["staging", "production"].map((s) => runStack(s)));
    for (const run of runs) assert.equal(run.error, undefined, run.error?.message);
    repo = repositoryOf(runs);
  });

  const workflows = () =>
    [...repo.main].filter(([file]) => file.startsWith(".github/workflows/")).map(([, text]) => parse(text) as Workflow);

  it("requires on main and develop exactly the checks a committed workflow's jobs report on a pull request", () => {
    for (const branch of ["main", "develop"]) {
      const [ruleset, ...others] = rulesetsOn(repo, "branch", `refs/heads/${branch}`);
      assert.ok(ruleset, `a ruleset protects ${branch}`);
      assert.equal(others.length, 0);
      const required = (ruleset["rules"].requiredStatusChecks.requiredChecks as { context: string }[]).map(
        (c) => c.context,
      );
      // What GitHub reports for a pull request into the branch: each job, a matrix job once per value.
      const reported = workflows()
        .filter((w) => "pull_request" in w.on && (w.on["pull_request"]?.branches ?? [branch]).includes(branch))
        .flatMap((w) =>
          Object.entries(w.jobs).flatMap(([id, job]) => {
            const values = Object.values(job.strategy?.matrix ?? {})[0];
            return values ? values.map((v) => `${job.name ?? id} (${v})`) : [job.name ?? id];
          }),
        );
      assert.ok(required.length > 10);
      for (const check of required) assert.ok(reported.includes(check), `${branch}: ${check} is reported`);
    }
  });

  it("writes only to branches no ruleset restricts but from deletion, and reaches main by a pull request that no one bypasses", () => {
    assert.ok(repo.writes.length > 0);
    for (const branch of repo.writes) {
      // The one rule on the proposal branch keeps a merge from deleting it (and the files' state with it).
      assert.deepEqual(
        rulesetsOn(repo, "branch", `refs/heads/${branch}`).map((r) => r["rules"]),
        [{ deletion: true }],
        `${branch} is writable, and kept`,
      );
    }
    assert.deepEqual([...repo.main.keys()].sort(), [
      ".github/CODEOWNERS",
      ".github/workflows/benchmarks.yml",
      ".github/workflows/ci.yml",
      ".github/workflows/release.yml",
    ]);
    // A replaced proposal is left as it is (merged, or superseded for people to close), never deleted on GitHub.
    for (const run of runs)
      for (const r of [...ofType(run, FILE), ...ofType(run, PULL_REQUEST)]) assert.ok(r.options.retainOnDelete, r.name);
    // No branch ruleset has a bypass actor: the pull request meets main's rules like anyone's.
    for (const r of repo.rulesets.filter((r) => r["target"] === "branch")) assert.deepEqual(r["bypassActors"], []);
  });

  it("runs each job of a release tag in an environment that accepts the tag", () => {
    const release = workflows().find((w) => w.on["push"]?.tags)!;
    const tag = "v1.4.2";
    assert.ok(release.on["push"]!.tags!.some((pattern) => minimatch(tag, pattern)));
    assert.ok(rulesetsOn(repo, "tag", `refs/tags/${tag}`).length === 1, "the tag ruleset covers release tags");
    const deploying = Object.values(release.jobs).filter((j) => j.environment);
    assert.deepEqual(
      deploying.map((j) => j.environment),
      ["staging", "production"],
    );
    for (const job of deploying) {
      const env = repo.environments.get(job.environment!);
      assert.ok(env, `${job.environment} exists`);
      assert.ok(
        env.tagPatterns.some((pattern) => minimatch(tag, pattern)),
        `${job.environment} accepts ${tag}`,
      );
      assert.ok(!env.tagPatterns.some((pattern) => minimatch("not-a-release", pattern)));
    }
  });
});
