/**
 * The release path's access model (components/governance/access/): every actor's operations, derived
 * from the declared resources, the stack files and the workflows, beside its grants. The model of the
 * program as it is has no finding; each planted gap (a removed grant, a token taken away, a secret in
 * an install step, a call the model does not know) is named.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { accessFindings, accessModel, type AccessInputs, type Finding } from "../components/governance/access/model";
import { accessInputs } from "../lib/access";
import { PROJECT_ROOT } from "../lib/paths";
import { packVersionProblem, publishedVersions, recordedLedger } from "../lib/policyPackVersion";
import { unwrapSecrets } from "../lib/resources";

let inputs: AccessInputs;
before(async () => {
  inputs = await accessInputs();
});

const findingsOf = (changed: AccessInputs): Finding[] => accessFindings(accessModel(changed), changed);
const describeFindings = (findings: Finding[]) => findings.map((f) => `${f.kind} ${f.actor}: ${f.detail}`);
/** The inputs with the deployments program's resources changed. */
const withDeployments = (
  change: (r: AccessInputs["deployments"][number]) => AccessInputs["deployments"][number][],
) => ({
  ...inputs,
  deployments: inputs.deployments.flatMap(change),
});
const values = (r: { inputs: Record<string, unknown> }) => unwrapSecrets(r.inputs) as Record<string, unknown>;

describe("the access model: every run holds exactly the rights its steps need", () => {
  it("finds nothing missing, unused or wider than needed, for staging and production", () => {
    assert.deepEqual(describeFindings(findingsOf(inputs)), []);
  });

  it("models each actor from what is declared: the release, every project stack's deployments, both jobs", () => {
    const actors = accessModel(inputs);
    const ids = actors.map((a) => a.id);
    for (const stack of ["staging", "production"]) {
      assert.ok(ids.includes(`release-${stack}`), stack);
      for (const project of ["doc-rag-cluster", "doc-rag-data", "doc-rag-app", "doc-rag-governance"])
        assert.ok(ids.includes(`deployments ${project}/${stack}`), `${project}/${stack}`);
    }
    assert.ok(
      ids.includes("policy-preview") && ids.includes("review-stack") && ids.includes("governance github token"),
    );
    // The app stack's deployments, whoever starts them (the release among them), read both lower stacks and open the registry.
    const app = actors.find((a) => a.id === "deployments doc-rag-app/staging")!;
    assert.match(app.who, /rest/);
    const ops = new Set(app.operations.map((o) => `${o.scope} ${o.target}`));
    for (const op of [
      "stack:write doc-rag-app/staging",
      "stack:read doc-rag-cluster/staging",
      "stack:read doc-rag-data/staging",
      "environment:open doc-rag/staging-registry",
      "environment:open doc-rag/staging-release",
    ])
      assert.ok(ops.has(op), op);
    // The release's own token: its deployments and its record, nothing it does not call.
    const release = actors.find((a) => a.id === "release-production")!;
    assert.deepEqual(release.grants.map((g) => `${g.set} ${g.target}`).sort(), [
      "Environment write doc-rag/production-release",
      "Stack write doc-rag-app/production",
    ]);
  });

  it("names a removed stack read: the app stack's deployments cannot read the data stack", () => {
    const changed = withDeployments((r) =>
      r.type === "pulumiservice:index:TeamStackPermission" &&
      values(r)["team"] === "doc-rag-app-staging-deployer" &&
      values(r)["project"] === "doc-rag-data"
        ? []
        : [r],
    );
    assert.ok(
      describeFindings(findingsOf(changed)).some((f) =>
        /^missing deployments doc-rag-app\/staging: stack:read on doc-rag-data\/staging/.test(f),
      ),
    );
  });

  it("names what a release deployment lacks without the stack's own token (it runs as the release team)", () => {
    const changed = withDeployments((r) => {
      if (r.type !== "pulumiservice:index:DeploymentSettings" || values(r)["project"] !== "doc-rag-app") return [r];
      const settings = values(r);
      const context = settings["operationContext"] as Record<string, unknown>;
      return [
        { ...r, inputs: { ...settings, operationContext: { ...context, environmentVariables: {} } }, dependencies: [] },
      ];
    });
    const findings = describeFindings(findingsOf(changed));
    for (const stack of ["staging", "production"]) {
      assert.ok(
        findings.includes(
          `missing release-${stack}: environment:open on doc-rag/${stack}-registry (a rest deployment: update opens what Pulumi.${stack}.yaml imports)`,
        ),
        findings.join("\n"),
      );
      assert.ok(findings.some((f) => f.startsWith(`missing release-${stack}: stack:read on doc-rag-cluster/${stack}`)));
    }
    // Drift detection then runs with the stack's ephemeral token: no stack reference, no environment.
    assert.ok(findings.some((f) => /^missing drift deployments doc-rag-app\/production: environment:open/.test(f)));
  });

  it("names an environment the release cannot write, and a grant nobody uses", () => {
    const changed = withDeployments((r) => {
      const v = values(r);
      if (r.type === "pulumiservice:index:TeamEnvironmentPermission" && v["team"] === "doc-rag-release-staging")
        return [{ ...r, inputs: { ...v, permission: "open" } }];
      if (r.type === "pulumiservice:index:TeamStackPermission" && v["team"] === "doc-rag-release-staging")
        return [r, { ...r, urn: `${r.urn}-extra`, inputs: { ...v, project: "doc-rag-cluster", permission: 101 } }];
      return [r];
    });
    const findings = describeFindings(findingsOf(changed));
    assert.ok(findings.some((f) => /^missing release-staging: environment:write on doc-rag\/staging-release/.test(f)));
    assert.ok(
      findings.includes(
        "unused release-staging: Stack read on doc-rag-cluster/staging (TeamStackPermission of doc-rag-release-staging)",
      ),
    );
  });

  it("names a grant wider than its uses: edit where previews only read", () => {
    const changed = withDeployments((r) =>
      r.type === "pulumiservice:index:TeamStackPermission" && values(r)["team"] === "doc-rag-preview"
        ? [{ ...r, inputs: { ...values(r), permission: 102 } }]
        : [r],
    );
    assert.ok(
      describeFindings(findingsOf(changed)).some((f) =>
        /^wider policy-preview: Stack write on doc-rag-app\/staging: Stack read covers/.test(f),
      ),
    );
  });

  it("names a review job with a secret in its install step, and one that writes settings after up", () => {
    const file = ".github/workflows/review-stack.yml";
    const workflow = parse(inputs.platformWorkflows[file]!) as {
      jobs: Record<string, { steps: Record<string, unknown>[] }>;
    };
    const steps = workflow.jobs["up"]!.steps;
    const install = steps.find((s) => /npm ci/.test(String(s["run"])))!;
    install["env"] = { PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}" };
    const up = steps.at(-1)!;
    const lines = String(up["run"]).split("\n");
    const upAt = lines.findIndex((l) => /pulumi up/.test(l));
    up["run"] = [...lines.slice(upAt), ...lines.slice(0, upAt)].join("\n");
    const changed = { ...inputs, platformWorkflows: { ...inputs.platformWorkflows, [file]: stringify(workflow) } };
    const findings = describeFindings(findingsOf(changed));
    assert.ok(
      findings.includes(
        "install .github/workflows/review-stack.yml#up: an install step holds ${{ secrets.PULUMI_ACCESS_TOKEN }}",
      ),
      findings.join("\n"),
    );
    assert.ok(
      findings.includes(
        "order review-stack.yml#up: pulumi up creates the TTL schedule before the stack has deployment settings",
      ),
    );
  });

  it("names a call in a job script that the model does not know", () => {
    const file = ".github/workflows/release.yml";
    const workflow = parse(inputs.applicationWorkflows[file]!) as {
      jobs: Record<string, { steps: { run?: string }[] }>;
    };
    const step = workflow.jobs["staging"]!.steps.at(-1)!;
    step.run = `pulumi stack output --stack other --show-secrets\n${step.run!}`;
    const findings = describeFindings(
      findingsOf({ ...inputs, applicationWorkflows: { ...inputs.applicationWorkflows, [file]: stringify(workflow) } }),
    );
    assert.ok(
      findings.some((f) => /^unmodelled release-staging: .*pulumi stack output/.test(f)),
      findings.join("\n"),
    );
  });

  it("previews exactly the project stacks the deployments program deploys", () => {
    const preview = parse(inputs.platformWorkflows[".github/workflows/policy-preview.yml"]!) as {
      jobs: { preview: { strategy: { matrix: { include: { layer: string; project: string; stack: string }[] } } } };
    };
    const previewed = preview.jobs.preview.strategy.matrix.include.map((e) => {
      assert.equal(e.project, `doc-rag-${e.layer}`, "each project from its own folder");
      return `${e.project}/${e.stack}`;
    });
    const deployed = inputs.deployments
      .filter((r) => r.type === "pulumiservice:index:DeploymentSettings" && values(r)["project"] !== "doc-rag")
      .map((r) => `${String(values(r)["project"])}/${String(values(r)["stack"])}`);
    assert.deepEqual(previewed.sort(), deployed.sort());
  });
});

describe("the policy pack's published versions (policies/published.json)", () => {
  it("records what the current version holds", () => {
    assert.equal(packVersionProblem(), undefined);
  });

  it("refuses an edit under a recorded version (Pulumi Cloud keeps a version immutable), and takes a bumped one", () => {
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), "doc-rag-pack-"));
    try {
      fs.cpSync(path.join(PROJECT_ROOT, "policies"), copy, {
        recursive: true,
        filter: (source) => !source.includes(`${path.sep}node_modules`),
      });
      const ledger = publishedVersions();
      const config = path.join(copy, "config", "production.json");
      fs.writeFileSync(config, fs.readFileSync(config, "utf8").replace(/\n$/, " \n"));
      assert.match(packVersionProblem(copy, ledger) ?? "", /policies\/ changed since version 0\.1\.0 was recorded/);
      assert.throws(() => recordedLedger(copy, ledger), /bump policies\/package\.json's version/);
      const manifest = path.join(copy, "package.json");
      fs.writeFileSync(manifest, fs.readFileSync(manifest, "utf8").replace('"version": "0.1.0"', '"version": "0.1.1"'));
      assert.match(packVersionProblem(copy, ledger) ?? "", /version 0\.1\.1 of the pack is not recorded/);
      const recorded = recordedLedger(copy, ledger);
      assert.equal(recorded["0.1.0"], ledger["0.1.0"], "an old version's record never changes");
      assert.equal(packVersionProblem(copy, recorded), undefined);
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });
});
