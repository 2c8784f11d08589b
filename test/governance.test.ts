import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { minimatch } from "minimatch";
import { parse } from "yaml";
import { PIPELINE, RELEASE, releaseEnvironmentName, releaseTeam } from "../components/governance/pipeline";
import { requiredChecksOf } from "../components/governance/proposal";
import { GITHUB_ACTIONS_APP_ID } from "../components/governance/github";
import { workflowFiles } from "../components/governance/workflows";
import type { RulesetProps } from "../policies/github";
import {
  captureConsole,
  isSecret,
  mockDigest,
  MOCK_ORGANIZATION,
  ofType,
  PROJECT_ROOT,
  runStack,
  stackPackConfig,
  unwrapSecrets,
  type StackRun,
  type Values,
} from "./harness";
import { branchProtectionScore } from "./harness/scorecard";
import { workflowLint } from "./harness/workflowLint";

const ENVIRONMENT = "github:index/repositoryEnvironment:RepositoryEnvironment";
const POLICY = "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy";
const RULESET = "github:index/repositoryRuleset:RepositoryRuleset";
const REPOSITORY = "github:index/repository:Repository";
const teamId = (slug: string) => Number.parseInt(mockDigest(slug).slice(7, 13), 16);

let runs: Record<"dev" | "staging" | "production", StackRun>;
before(async () => {
  const [dev, staging, production] = await Promise.all(["dev", "staging", "production"].map((s) => runStack(s)));
  runs = { dev: dev!, staging: staging!, production: production! };
});

const one = (run: StackRun, type: string) => {
  const found = ofType(run, type);
  assert.equal(found.length, 1, `${run.stack}: one ${type}`);
  return found[0]!.inputs as Values;
};
const ruleset = (run: StackRun, branch: string) =>
  ofType(run, RULESET).find((r) => r.inputs["name"] === `protect-${branch}`)!.inputs as RulesetProps & Values;

describe("governance: environments", () => {
  it("production: the teams from config review, no self-review or admin bypass, a wait timer, release tags only", () => {
    const env = one(runs.production, ENVIRONMENT);
    assert.deepEqual(
      [env["environment"], env["repository"], env["preventSelfReview"], env["canAdminsBypass"], env["waitTimer"]],
      ["production", "doc-rag", true, false, 30],
    );
    assert.deepEqual(env["reviewers"], [{ teams: [teamId("admin-team"), teamId("senior-devs")] }]);
    assert.deepEqual(env["deploymentBranchPolicy"], { protectedBranches: false, customBranchPolicies: true });
    assert.deepEqual(
      ofType(runs.production, POLICY).map((p) => p.inputs["branchPattern"] ?? `tag:${String(p.inputs["tagPattern"])}`),
      ["tag:v*.*.*"],
    );
  });

  it("staging: deploys release tags, the refs the release workflow runs on", () => {
    assert.equal(one(runs.staging, ENVIRONMENT)["environment"], "staging");
    assert.deepEqual(
      ofType(runs.staging, POLICY).map((p) => p.inputs["branchPattern"] ?? `tag:${String(p.inputs["tagPattern"])}`),
      ["tag:v*.*.*"],
    );
  });

  it("keeps environment secrets from secret config secret, and sets the variables", async () => {
    // The governance project, as staging runs it: a release deploys the app project.
    const run = await runStack("staging", {
      project: "governance",
      secretOverrides: ['doc-rag:githubEnvironmentSecrets={"KUBECONFIG":"apiVersion: v1"}'],
      overrides: ['doc-rag:github.variables={"API_HOST":"api.staging.doc-rag.com"}'],
    });
    const [secret] = ofType(run, "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret");
    assert.equal(secret!.inputs["secretName"], "KUBECONFIG");
    assert.ok(isSecret(secret!.inputs["value"]));
    assert.equal(unwrapSecrets(secret!.inputs["value"]), "apiVersion: v1");
    assert.deepEqual(
      ofType(run, "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable").map((v) => [
        v.inputs["variableName"],
        v.inputs["value"],
      ]),
      [
        ["ENVIRONMENT", "staging"],
        ["PULUMI_ORGANIZATION", MOCK_ORGANIZATION],
        ["PULUMI_PROJECT", "doc-rag-app"],
        ["PULUMI_ESC_PROJECT", "doc-rag"],
        ["API_HOST", "api.staging.doc-rag.com"],
      ],
    );
    const plain = await runStack("staging", { overrides: ['doc-rag:githubEnvironmentSecrets={"KUBECONFIG":"x"}'] });
    assert.match(plain.error?.message ?? "", /doc-rag:githubEnvironmentSecrets: must be set as a secret/);
  });
});

describe("governance: the repository and its rulesets", () => {
  it("are owned by production alone by default, so two stacks never fight over them", async () => {
    assert.equal(ofType(runs.production, REPOSITORY).length, 1);
    assert.equal(ofType(runs.staging, REPOSITORY).length, 0);
    assert.equal(ofType(runs.staging, RULESET).length, 0);
    const moved = await runStack("staging", { overrides: ["doc-rag:github.manageRepository=true"] });
    assert.equal(ofType(moved, REPOSITORY).length, 1);
  });

  it("turns on vulnerability alerts, secret scanning with push protection and Dependabot, squash-only merges, branch deletion", () => {
    const repo = one(runs.production, REPOSITORY);
    assert.equal(repo["vulnerabilityAlerts"], true);
    // A private repository: secret scanning needs Advanced Security enabled in the same request (else 422).
    assert.deepEqual(repo["securityAndAnalysis"], {
      advancedSecurity: { status: "enabled" },
      secretScanning: { status: "enabled" },
      secretScanningPushProtection: { status: "enabled" },
    });
    assert.deepEqual(
      [repo["allowSquashMerge"], repo["allowMergeCommit"], repo["allowRebaseMerge"], repo["deleteBranchOnMerge"]],
      [true, false, false, true],
    );
    assert.equal(repo["visibility"], "private");
    assert.equal(
      one(runs.production, "github:index/repositoryDependabotSecurityUpdates:RepositoryDependabotSecurityUpdates")[
        "enabled"
      ],
      true,
    );
    const codeowners = ofType(runs.production, "github:index/repositoryFile:RepositoryFile").find(
      (f) => f.inputs["file"] === ".github/CODEOWNERS",
    )!.inputs as Values;
    assert.match(codeowners["content"], /^\* @doc-rag\/platform @doc-rag\/senior-devs$/m);
    const repository = ofType(runs.production, REPOSITORY)[0]!;
    assert.ok(repository.options.protect && repository.options.retainOnDelete);
  });

  it("protects main (2 approvals) and develop (1) with the same rules and no bypass", () => {
    for (const [branch, approvals] of [
      ["main", 2],
      ["develop", 1],
    ] as const) {
      const r = ruleset(runs.production, branch);
      assert.deepEqual(r.conditions, { refName: { includes: [`refs/heads/${branch}`], excludes: [] } });
      assert.equal(r.enforcement, "active");
      assert.deepEqual(r.rules?.pullRequest, {
        requiredApprovingReviewCount: approvals,
        dismissStaleReviewsOnPush: true,
        requireCodeOwnerReview: true,
        requireLastPushApproval: true,
        requiredReviewThreadResolution: true,
      });
      assert.deepEqual(
        [
          (r as Values)["rules"].deletion,
          (r as Values)["rules"].nonFastForward,
          (r as Values)["rules"].requiredLinearHistory,
        ],
        [true, true, true],
      );
      assert.equal(r.rules?.requiredStatusChecks?.strictRequiredStatusChecksPolicy, true);
      assert.deepEqual(r.bypassActors, []);
    }
  });

  it("lets only release managers create, move or delete a release tag, the tags the environments deploy", async () => {
    const tags = ofType(runs.production, RULESET).find((r) => r.inputs["target"] === "tag")!.inputs as Values;
    assert.deepEqual(
      [tags["name"], tags["enforcement"], tags["conditions"], tags["rules"]],
      [
        "protect-release-tags",
        "active",
        { refName: { includes: [RELEASE.tagRefs], excludes: [] } },
        { creation: true, update: true, deletion: true },
      ],
    );
    // Without named teams, the repository's admins; with them, those teams alone.
    assert.deepEqual(tags["bypassActors"], [{ actorId: 5, actorType: "RepositoryRole", bypassMode: "always" }]);
    const named = await runStack("production", { overrides: ['doc-rag:github.releaseManagers=["release-team"]'] });
    const bypass = ofType(named, RULESET).find((r) => r.inputs["target"] === "tag")!.inputs["bypassActors"];
    assert.deepEqual(bypass, [{ actorId: teamId("release-team"), actorType: "Team", bypassMode: "always" }]);
    // The ruleset covers every tag the release workflow runs on.
    assert.ok(minimatch(`refs/tags/${RELEASE.tagPattern.replaceAll("*", "12")}`, RELEASE.tagRefs));
  });

  it("requires exactly the checks of the pipeline jobs that gate merging, each naming a job that exists", () => {
    const required = (ruleset(runs.production, "main").rules?.requiredStatusChecks?.requiredChecks ?? []) as {
      context: string;
      integrationId?: number;
    }[];
    // Each check only counts when the GitHub Actions app posts it.
    assert.ok(required.every((c) => c.integrationId === GITHUB_ACTIONS_APP_ID));
    assert.deepEqual(
      required.map((c) => c.context),
      requiredChecksOf(workflowFiles()),
    );
    for (const { context } of required) {
      const job = PIPELINE.find(
        (j) => context === j.name || (j.matrix ?? []).some((m) => context === `${j.name} (${m})`),
      );
      assert.ok(job?.gatesMerge, `${context} is a merge-gating job of the pipeline`);
    }
    assert.ok(required.some((c) => c.context === "test (stable)"));
    assert.deepEqual(runs.production.outputs["requiredChecks"], requiredChecksOf(workflowFiles()));
  });

  it("reaches OpenSSF Scorecard's Branch-Protection maximum on main, computed from the recorded ruleset", () => {
    const main = ruleset(runs.production, "main");
    assert.equal(branchProtectionScore(main), 10);
    // The scorer is not a constant: each missing protection costs its tier.
    assert.equal(branchProtectionScore(ruleset(runs.production, "develop")), 8);
    assert.equal(
      branchProtectionScore({
        ...main,
        rules: { ...main.rules, pullRequest: { ...main.rules?.pullRequest, dismissStaleReviewsOnPush: false } },
      }),
      9,
    );
    assert.equal(branchProtectionScore({ ...main, rules: { ...main.rules, nonFastForward: false } }), 0);
  });
});

describe("governance: dev", () => {
  it("creates no GitHub or Pulumi Cloud resource, and refuses GitHub config", async () => {
    assert.deepEqual(
      runs.dev.resources
        .filter((r) => /^(github|pulumiservice):|^pulumi:providers:(github|pulumiservice)/.test(r.type))
        .map((r) => r.type),
      [],
    );
    const refused = await runStack("dev", { overrides: ['doc-rag:github={"owner":"doc-rag","plan":"team"}'] });
    assert.match(refused.error?.message ?? "", /doc-rag:github: must not be set in dev: dev has no GitHub governance/);
  });
});

describe("governance: the pipeline as code", () => {
  const files = workflowFiles();
  const parsed = Object.fromEntries(Object.entries(files).map(([p, text]) => [p, parse(text) as Values]));

  it("generates the pull-request pipeline, the benchmarks and the release, and actionlint passes them all", async () => {
    assert.deepEqual(Object.keys(files).sort(), [
      ".github/workflows/benchmarks.yml",
      ".github/workflows/ci.yml",
      ".github/workflows/release.yml",
    ]);
    assert.deepEqual(
      (await workflowLint()).generated.map((p) => `${path.basename(p.file)}:${p.line} ${p.message}`),
      [],
    );
  });

  it("covers every stage of the original document's pipeline", () => {
    const ci = Object.keys(parsed[".github/workflows/ci.yml"]!["jobs"]);
    for (const job of [
      "format",
      "lint",
      "docs",
      "licenses",
      "dependency-audit",
      "secret-scan",
      "static-analysis",
      "test",
      "container-build",
      "container-scan",
      "integration",
      "e2e",
    ])
      assert.ok(ci.includes(job), job);
    assert.ok("benchmarks" in parsed[".github/workflows/benchmarks.yml"]!["jobs"]);
    const release = parsed[".github/workflows/release.yml"]!;
    assert.deepEqual(release["on"], { push: { tags: [RELEASE.tagPattern] } });
    assert.deepEqual(
      Object.entries(release["jobs"] as Record<string, Values>).map(([id, j]) => [id, j["environment"], j["needs"]]),
      [
        ["publish", undefined, undefined],
        ["staging", "staging", "publish"],
        ["production", "production", "staging"],
      ],
    );
  });

  it("is read-only by default (only the release's publish job may push packages), and never runs pull_request_target", () => {
    for (const [file, text] of Object.entries(files)) {
      const workflow = parsed[file]!;
      assert.deepEqual(workflow["permissions"], { contents: "read" }, file);
      assert.ok(!("pull_request_target" in workflow["on"]), file);
      for (const [id, job] of Object.entries(workflow["jobs"] as Record<string, Values>)) {
        const release = file.endsWith("release.yml");
        const expected =
          release && id === "publish"
            ? { contents: "read", packages: "write" }
            : release
              ? { "id-token": "write" }
              : undefined;
        assert.deepEqual(job["permissions"], expected, `${file} ${id}`);
        for (const step of job["steps"] as Values[]) {
          if (String(step["uses"] ?? "").startsWith("actions/checkout@"))
            assert.equal(step["with"]["persist-credentials"], false);
          // What comes from the event (a tag, a range, a release) reaches a script as data, never spliced into it.
          if (step["run"]) assert.doesNotMatch(step["run"], /\$\{\{/, `${file} ${id}: ${step["run"]}`);
        }
      }
      assert.match(text, /^# Generated by doc-rag-platform/);
    }
  });

  it("takes one set of digests from the tag to staging and what staging verified to production, one release per environment at a time", () => {
    const release = parsed[".github/workflows/release.yml"]!;
    const jobs = release["jobs"] as Record<string, Values>;
    const step = (id: string) => (jobs[id]!["steps"] as Values[]).at(-1)!;
    assert.equal(step("staging")["env"].RELEASE, "${{ needs.publish.outputs.release }}");
    assert.equal(step("production")["env"].RELEASE, "${{ needs.staging.outputs.release }}");
    assert.equal(step("production")["env"].PLATFORM_COMMIT, "${{ needs.staging.outputs.platform-commit }}");
    for (const stage of ["staging", "production"] as const) {
      assert.equal(step(stage)["env"].RELEASE_ENV, releaseEnvironmentName(stage));
      assert.equal(step(stage)["env"].PULUMI_TEAM, releaseTeam(stage));
      assert.deepEqual(jobs[stage]!["concurrency"], { group: `release-${stage}`, "cancel-in-progress": false });
      assert.deepEqual(jobs[stage]!["outputs"], {
        release: "${{ steps.release.outputs.release }}",
        "platform-commit": "${{ steps.release.outputs.platform-commit }}",
      });
    }
    // No workflow-wide group: staging is never held behind production's approval.
    assert.equal(release["concurrency"], undefined);
    // The publish job refuses a tag that is not on main.
    const publish = (jobs["publish"]!["steps"] as Values[]).map((s) => String(s["run"] ?? "")).join("\n");
    assert.match(publish, /git merge-base --is-ancestor "\$GITHUB_SHA" origin\/main/);
  });

  it("names every required check after a job the pull-request workflow really runs", () => {
    const jobs = parsed[".github/workflows/ci.yml"]!["jobs"] as Record<string, Values>;
    const checkNames = Object.values(jobs).flatMap((j) =>
      j["strategy"] ? (j["strategy"].matrix.rust as string[]).map((m) => `${j["name"]} (${m})`) : [j["name"] as string],
    );
    const required = requiredChecksOf(files);
    assert.equal(
      required.length,
      PIPELINE.filter((j) => j.gatesMerge).length + 1,
      "one check per gating job, two for the matrix",
    );
    for (const check of required) assert.ok(checkNames.includes(check), `${check} is a job of ci.yml`);
  });

  it("proposes the workflows from the stack that owns the repository, and without them requires no check", async () => {
    const fileNames = (run: StackRun) =>
      ofType(run, "github:index/repositoryFile:RepositoryFile").map((f) => f.inputs["file"]);
    assert.deepEqual(fileNames(runs.production).sort(), [".github/CODEOWNERS", ...Object.keys(files)].sort());
    assert.deepEqual(fileNames(runs.staging), [], "staging does not own the repository");
    const ci = ofType(runs.production, "github:index/repositoryFile:RepositoryFile").find(
      (f) => f.inputs["file"] === ".github/workflows/ci.yml",
    )!;
    assert.equal(ci.inputs["content"], files[".github/workflows/ci.yml"]);
    const without = await runStack("production", { overrides: ["doc-rag:github.commitWorkflows=false"] });
    assert.deepEqual(fileNames(without), [".github/CODEOWNERS"]);
    assert.equal(ruleset(without, "main").rules?.requiredStatusChecks, undefined, "no check nobody produces");
    assert.deepEqual(without.outputs["requiredChecks"], []);
  });
});

describe("governance: Pulumi Deployments (the deployments program)", () => {
  const root = path.join(PROJECT_ROOT, "deployments");
  let run: StackRun;
  before(async () => {
    run = await runStack("settings", { root });
    assert.equal(run.error, undefined, run.error?.message);
  });
  const settings = (stack: string, project = "doc-rag-app") =>
    ofType(run, "pulumiservice:index:DeploymentSettings").find(
      (s) => s.inputs["stack"] === stack && s.inputs["project"] === project,
    )!.inputs as Values;

  it("gives each release stage an identity by OIDC that can write its own record and deploy its own stack only", () => {
    const issuer = one(run, "pulumiservice:index:OidcIssuer");
    assert.equal(issuer["url"], "https://token.actions.githubusercontent.com");
    const policies = issuer["policies"] as {
      decision: string;
      tokenType: string;
      teamName?: string;
      rules: Record<string, string>;
    }[];
    // What a GitHub job of the application repository can do in Pulumi Cloud, from the resources alone.
    const reach = (subject: string) => {
      const teams = policies
        .filter((p) => p.decision === "allow" && p.rules["sub"] === subject)
        .map((p) => {
          assert.equal(p.tokenType, "team", "no organization or personal token");
          assert.equal(
            p.rules["aud"],
            `urn:pulumi:org:${String(one(run, "pulumiservice:index:OidcIssuer")["organization"])}`,
          );
          return p.teamName!;
        });
      const grants = (type: string, what: (v: Values) => string, writes: (v: Values) => boolean) =>
        ofType(run, type)
          .map((r) => r.inputs as Values)
          .filter((g) => teams.includes(g["team"]) && writes(g))
          .map(what)
          .sort();
      return {
        escWrites: grants(
          "pulumiservice:index:TeamEnvironmentPermission",
          (g) => `${g["project"]}/${g["environment"]}`,
          (g) => ["write", "admin"].includes(g["permission"]),
        ),
        stackEdits: grants(
          "pulumiservice:index:TeamStackPermission",
          (g) => `${g["project"]}/${g["stack"]}`,
          (g) => g["permission"] >= 102,
        ),
      };
    };
    const job = (environment: string) => `repo:doc-rag/doc-rag:environment:${environment}`;
    assert.deepEqual(reach(job("staging")), {
      escWrites: ["doc-rag/staging-release"],
      stackEdits: ["doc-rag-app/staging"],
    });
    assert.deepEqual(reach(job("production")), {
      escWrites: ["doc-rag/production-release"],
      stackEdits: ["doc-rag-app/production"],
    });
    // A pull request's job, or the platform repository's, gets nothing.
    for (const subject of ["repo:doc-rag/doc-rag:pull_request", "repo:doc-rag/doc-rag-platform:environment:production"])
      assert.deepEqual(reach(subject), { escWrites: [], stackEdits: [] }, subject);
    // The release grants keep the names a stack made before holds: a new name would replace (and so revoke) each.
    assert.deepEqual(
      [
        ...ofType(run, "pulumiservice:index:TeamStackPermission"),
        ...ofType(run, "pulumiservice:index:TeamEnvironmentPermission"),
      ]
        .map((r) => r.name)
        .filter((n) => /-release-(stack|record)$/.test(n))
        .sort(),
      [
        "deployments-production-release-record",
        "deployments-production-release-stack",
        "deployments-staging-release-record",
        "deployments-staging-release-stack",
      ],
    );
    // The teams have no members: only the release jobs act as them.
    for (const team of ofType(run, "pulumiservice:index:Team")) assert.equal(team.inputs["members"], undefined);
  });

  it("updates staging on every merge to main, layer after layer; previews no pull request (staging is no review-stack template)", () => {
    const cluster = settings("staging", "doc-rag-cluster");
    assert.deepEqual(cluster["vcs"], {
      provider: "github",
      repository: "doc-rag/doc-rag-platform",
      deployCommits: true,
      previewPullRequests: false,
      pullRequestTemplate: false,
    });
    assert.deepEqual(cluster["sourceContext"], { git: { branch: "refs/heads/main", repoDir: "projects/cluster" } });
    const context = unwrapSecrets<Values>(cluster["operationContext"]);
    assert.deepEqual(context["preRunCommands"], ["npm ci --prefix ../..", "npm ci --prefix ../../policies"]);
    assert.equal(context["options"].skipInstallDependencies, true);
    // Data and app follow the cluster stack's successful update, in the order `npm run up` keeps.
    for (const project of ["doc-rag-data", "doc-rag-app"])
      assert.equal(settings("staging", project)["vcs"].deployCommits, false);
    assert.equal(settings("staging", "doc-rag-governance")["vcs"].deployCommits, true);
    assert.deepEqual(
      ofType(run, "pulumiservice:index:Webhook").map((w) => [
        `${String(w.inputs["projectName"])}/${String(w.inputs["stackName"])}`,
        w.inputs["payloadUrl"],
        w.inputs["format"],
        w.inputs["filters"],
      ]),
      [
        ["doc-rag-cluster/staging", "doc-rag-data/staging", "pulumi_deployments", ["update_succeeded"]],
        ["doc-rag-data/staging", "doc-rag-app/staging", "pulumi_deployments", ["update_succeeded"]],
      ],
    );
  });

  it("never deploys production on a merge (the release workflow does), and previews no pull request with its secrets", () => {
    for (const project of ["doc-rag-cluster", "doc-rag-data", "doc-rag-app", "doc-rag-governance"]) {
      assert.equal(settings("production", project)["vcs"].deployCommits, false, project);
      assert.equal(settings("production", project)["vcs"].previewPullRequests, false, project);
    }
  });

  it("gives each project's deployments only its own credentials: the app's no GitHub or Vault token", async () => {
    const credentials = {
      production: {
        cluster: { KUBECONFIG: "admin", VAULT_TOKEN: "vault" },
        data: { KUBECONFIG: "data-deployer" },
        app: { KUBECONFIG: "app-deployer" },
        governance: { GITHUB_TOKEN: "github" },
      },
    };
    const scoped = await runStack("settings", {
      root,
      secretOverrides: [`doc-rag-deployments:credentials=${JSON.stringify(credentials)}`],
    });
    assert.equal(scoped.error, undefined, scoped.error?.message);
    const variables = (project: string) => {
      const found = ofType(scoped, "pulumiservice:index:DeploymentSettings").find(
        (s) => s.inputs["stack"] === "production" && s.inputs["project"] === project,
      )!;
      // A secret inside makes the whole operation context secret, as Pulumi serializes it.
      const context = found.inputs["operationContext"];
      assert.ok(isSecret(context), "credentials stay secret");
      return Object.keys(unwrapSecrets<Values>(context)["environmentVariables"] as Record<string, string>).sort();
    };
    // Each also runs as its own team's token, whatever starts it (test/access.test.ts checks its rights).
    assert.deepEqual(variables("doc-rag-app"), ["KUBECONFIG", "PULUMI_ACCESS_TOKEN"]);
    assert.deepEqual(variables("doc-rag-data"), ["KUBECONFIG", "PULUMI_ACCESS_TOKEN"]);
    assert.deepEqual(variables("doc-rag-cluster"), ["KUBECONFIG", "PULUMI_ACCESS_TOKEN", "VAULT_TOKEN"]);
    assert.deepEqual(variables("doc-rag-governance"), ["GITHUB_TOKEN", "PULUMI_ACCESS_TOKEN"]);
    const refused = await runStack("settings", {
      root,
      secretOverrides: [
        `doc-rag-deployments:credentials=${JSON.stringify({ production: { app: { KUBECONFIG: "k", GITHUB_TOKEN: "ghp_x", VAULT_TOKEN: "hvs", PULUMI_ACCESS_TOKEN: "pul-x" } } })}`,
      ],
    });
    assert.match(
      refused.error?.message ?? "",
      /doc-rag-deployments:credentials\.production\.app\.GITHUB_TOKEN: is not a credential the app project may hold \(it may hold KUBECONFIG\)/,
    );
    assert.match(
      refused.error?.message ?? "",
      /credentials\.production\.app\.VAULT_TOKEN: is not a credential the app project may hold/,
    );
    assert.match(
      refused.error?.message ?? "",
      /credentials\.production\.app\.PULUMI_ACCESS_TOKEN: is set by the program/,
    );
    assert.doesNotMatch(refused.error?.message ?? "", /ghp_x|hvs|pul-x/);
    assert.equal(refused.resources.length, 0);
  });

  it("creates every ESC environment a stack file imports (release, alert receivers, registry credential), and never resets what they hold", () => {
    const envs = ofType(run, "pulumiservice:index:Environment");
    assert.deepEqual(
      envs.map((e) => `${String(e.inputs["project"])}/${String(e.inputs["name"])}`),
      [
        "doc-rag/staging-release",
        "doc-rag/staging-registry",
        "doc-rag/production-release",
        "doc-rag/production-alerting",
        "doc-rag/production-registry",
      ],
    );
    assert.equal(releaseEnvironmentName("production"), "production-release");
    for (const env of envs) assert.deepEqual(env.options.ignoreChanges, ["yaml"]);
    const imported = ["staging", "production"].flatMap(
      (stack) =>
        (parse(fs.readFileSync(path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`), "utf8")) as Values)[
          "environment"
        ] as string[],
    );
    assert.deepEqual(
      imported,
      envs.map((e) => `doc-rag/${String(e.inputs["name"])}`),
    );
  });

  it("keeps the pr stack's settings for review stacks, but runs no pull request's code on its own", () => {
    const template = settings("pr", "doc-rag");
    // No stack is a template Deployments copy on a push: review-stack.yml does, after approval.
    assert.deepEqual(template["vcs"], {
      provider: "github",
      repository: "doc-rag/doc-rag-platform",
      deployCommits: false,
      previewPullRequests: false,
      pullRequestTemplate: false,
    });
    // Copies are single stacks of the root project: every layer together.
    assert.equal(template["project"], "doc-rag");
    assert.deepEqual(template["sourceContext"], { git: { branch: "refs/heads/main", repoDir: "." } });
    assert.deepEqual(template["operationContext"].preRunCommands, ["npm ci --prefix .", "npm ci --prefix policies"]);
    assert.deepEqual(
      ofType(run, "pulumiservice:index:DeploymentSettings")
        .filter(
          (s) =>
            (s.inputs["vcs"] as Values)["pullRequestTemplate"] || (s.inputs["vcs"] as Values)["previewPullRequests"],
        )
        .map((s) => s.inputs["stack"]),
      [],
    );
    // The review stacks' workflow: after a reviewer's approval, in the one environment that holds the credentials.
    const review = parse(
      fs.readFileSync(path.join(PROJECT_ROOT, ".github", "workflows", "review-stack.yml"), "utf8"),
    ) as Values;
    for (const job of Object.values(review["jobs"] as Record<string, Values>)) {
      assert.equal(job["environment"], "review");
      assert.match(job["if"], /github\.event\.pull_request\.head\.repo\.full_name == github\.repository/);
    }
    const up = ((review["jobs"] as Record<string, Values>)["up"]!["steps"] as Values[]).at(-1)!;
    assert.match(up["run"], /--policy-pack \.\.\/main\/policies/, "main's pack, not the change's");
    assert.match(up["run"], /--policy-pack-config \.\.\/main\/policies\/config\/pr\.json/);
  });

  it("detects drift on a schedule for every project's stack of both environments", () => {
    assert.deepEqual(
      ofType(run, "pulumiservice:index:DriftSchedule").map((d) => [
        `${String(d.inputs["project"])}/${String(d.inputs["stack"])}`,
        d.inputs["scheduleCron"],
        d.inputs["autoRemediate"],
      ]),
      ["staging", "production"].flatMap((stack) =>
        ["cluster", "data", "app", "governance"].map((layer) => [`doc-rag-${layer}/${stack}`, "0 */6 * * *", false]),
      ),
    );
  });

  it("publishes the policy pack and enforces it on each stack with that stack's policy config", () => {
    const pack = ofType(run, "pulumiservice:index:PolicyPack")[0]!.inputs as Values;
    assert.deepEqual([pack["name"], pack["sourcePath"]], ["doc-rag-security", "../policies"]);
    for (const stack of ["staging", "production"]) {
      const group = ofType(run, "pulumiservice:index:PolicyGroup").find((g) => g.inputs["name"] === `doc-rag-${stack}`)!
        .inputs as Values;
      assert.equal(group["mode"], "preventative");
      assert.deepEqual(
        group["stacks"],
        ["cluster", "data", "app", "governance"].map((layer) => ({ name: stack, routingProject: `doc-rag-${layer}` })),
      );
      assert.deepEqual(group["policyPacks"][0].config, stackPackConfig(stack));
    }
  });

  it("is a separate program, so no platform stack manages its own deployment settings", () => {
    for (const stack of ["dev", "staging", "production"])
      assert.equal(
        runs[stack as keyof typeof runs].resources.filter((r) => r.type.startsWith("pulumiservice:")).length,
        0,
      );
  });

  it("refuses a configuration without an organization, naming the key", async () => {
    const bad = await runStack("settings", { root, overrides: ["doc-rag-deployments:organization="] });
    assert.match(bad.error?.message ?? "", /doc-rag-deployments:organization: must not be empty \(got ""\)/);
    assert.equal(bad.resources.length, 0);
  });
});

describe("governance: the GitHub plan (doc-rag:github.plan)", () => {
  const warningsOf = async (stack: string, overrides: string[]) => {
    let run: StackRun | undefined;
    const { stderr } = await captureConsole(async () => {
      run = await runStack(stack, { overrides, fresh: true });
      return 0;
    });
    return { run: run!, warnings: stderr };
  };

  it("refuses what would leave the repository unprotected, naming the key, the value and what is allowed", async () => {
    const cases: [string, string[], RegExp][] = [
      [
        "production",
        ["doc-rag:github.plan=free"],
        /doc-rag:github\.plan: cannot protect a private repository on GitHub free: rulesets are not enforced .*use plan team or enterprise, or visibility public/,
      ],
      [
        "production",
        ["doc-rag:github.plan=team"],
        /doc-rag:github\.reviewers: cannot be enforced on a private repository on GitHub team: required reviewers need GitHub Enterprise .*production's release approval/,
      ],
      [
        "staging",
        ["doc-rag:github.plan=team", "doc-rag:github.visibility=internal"],
        /doc-rag:github\.visibility: needs plan enterprise/,
      ],
      ["staging", ["doc-rag:github.plan=business"], /doc-rag:github\.plan: .*must be one of free, team, enterprise/],
    ];
    for (const [stack, overrides, message] of cases) {
      const run = await runStack(stack, { overrides });
      assert.match(run.error?.message ?? "", message, overrides.join(" "));
      assert.equal(run.resources.filter((r) => r.type.startsWith("github:")).length, 0, "nothing registered");
    }
  });

  it("turns off with a warning what the plan cannot enforce and the release does not rest on", async () => {
    // Staging on Team: environments and rulesets yes, reviewers and wait timers no.
    const staging = await warningsOf("staging", [
      "doc-rag:github.plan=team",
      'doc-rag:github.reviewers=["qa"]',
      "doc-rag:github.waitTimerMinutes=5",
    ]);
    assert.equal(staging.run.error, undefined, staging.run.error?.message);
    const env = one(staging.run, ENVIRONMENT);
    assert.equal(env["reviewers"], undefined);
    assert.equal(env["waitTimer"], 0);
    assert.match(staging.warnings, /doc-rag:github\.reviewers cannot be enforced .*staging deploys without them/);
    assert.match(staging.warnings, /doc-rag:github\.waitTimerMinutes \(5\) cannot be enforced/);
    // Without Advanced Security, a private repository gets no secret scanning settings (GitHub would answer 422).
    const plain = await warningsOf("production", ["doc-rag:github.advancedSecurity=false"]);
    assert.equal(one(plain.run, REPOSITORY)["securityAndAnalysis"], undefined);
    assert.match(plain.warnings, /secret scanning and push protection are off/);
    // A public repository has every feature on the free plan.
    const open = await warningsOf("production", ["doc-rag:github.plan=free", "doc-rag:github.visibility=public"]);
    assert.equal(open.run.error, undefined, open.run.error?.message);
    assert.ok(one(open.run, ENVIRONMENT)["reviewers"]);
    assert.doesNotMatch(open.warnings, /cannot be enforced|secret scanning/);
  });
});
