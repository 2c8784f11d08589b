import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { CHARTS } from "../components/charts";
import { placeholderRelease } from "../components/config";
import { fakeNodes } from "../tools/e2e/cluster";
import { engineKey } from "../tools/e2e/engine";
import { changes, created, planned, policyFindings, refusals, type EngineEvent } from "../tools/e2e/pulumi";
import { crdOnlyCharts, pinnedCrdFiles, prepareStackFile, trustChartsDir } from "../tools/e2e/workspace";
import { CHART_DATA } from "../lib/chartData";
import { PROJECT_ROOT } from "../lib/paths";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "e2e-lane-"));

function projectCopy(stack: string): string {
  const dir = tmp();
  fs.mkdirSync(path.join(dir, "policies", "config"), { recursive: true });
  fs.copyFileSync(path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`), path.join(dir, `Pulumi.${stack}.yaml`));
  const policy = path.join("policies", "config", `${stack}.json`);
  fs.copyFileSync(path.join(PROJECT_ROOT, policy), path.join(dir, policy));
  return dir;
}

describe("e2e lane: what it changes in its copy of the project, and says", () => {
  it("replaces production's ESC imports by the placeholders they would hold, drops GitHub, points at the charts", () => {
    const dir = projectCopy("production");
    const { changes: said, secrets } = prepareStackFile(dir, "production", "/charts");
    const file = parse(fs.readFileSync(path.join(dir, "Pulumi.production.yaml"), "utf8")) as Record<string, unknown>;
    const config = file["config"] as Record<string, unknown>;
    assert.equal(file["environment"], undefined);
    assert.deepEqual(config["doc-rag:release"], placeholderRelease());
    assert.equal(config["doc-rag:github"], undefined);
    assert.equal(config["doc-rag:chartsDir"], "/charts");
    assert.equal(said.length, 7);
    assert.match(
      said[0] ?? "",
      /ESC imports \["doc-rag\/production-release","doc-rag\/production-alerting","doc-rag\/production-registry"\] removed/,
    );
    // The alert receivers and the registry credential are secrets: set with --secret once the stack exists.
    assert.deepEqual(
      secrets.map(([key]) => key),
      ["doc-rag:alertPagingUrl", "doc-rag:alertChatUrl", "doc-rag:registryAuth"],
    );
    assert.equal(config["doc-rag:alertPagingUrl"], undefined);
    // The user's own stack file is untouched.
    assert.ok(fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.production.yaml"), "utf8").includes("environment:"));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("leaves dev's config alone but for the chart directory, and trusts that directory in the pack's config", () => {
    const dir = projectCopy("dev");
    assert.deepEqual(prepareStackFile(dir, "dev", "/charts"), {
      changes: ["doc-rag:chartsDir set to /charts"],
      secrets: [],
    });
    trustChartsDir(dir, "dev", "/charts");
    const policy = JSON.parse(fs.readFileSync(path.join(dir, "policies", "config", "dev.json"), "utf8")) as Record<
      string,
      unknown
    >;
    assert.deepEqual(policy["helm-repository-secure"], { localChartDirectories: ["/charts"] });
    assert.equal(policy["all"], "advisory");
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("e2e lane: CRD-only stand-in charts", function () {
  before(function () {
    if (!fs.existsSync(CHART_DATA)) this.skip();
  });

  it("holds each pinned chart at its version, with its CRDs' schemas whole but for the descriptions", () => {
    const dir = crdOnlyCharts(path.join(tmp(), "charts"));
    for (const chart of Object.values(CHARTS)) {
      const name = path.basename(chart.chart);
      const chartYaml = parse(fs.readFileSync(path.join(dir, name, chart.version, name, "Chart.yaml"), "utf8")) as {
        name: string;
        version: string;
      };
      assert.equal(chartYaml.name, name);
      assert.equal(chartYaml.version, chart.version.replace(/^v/, ""));
    }
    const files = pinnedCrdFiles();
    const source = files.find((f) => f.endsWith("rollouts.argoproj.io.yaml"));
    assert.ok(source, "the Argo Rollouts CRD is among the pinned CRDs");
    const standIn = path.join(
      dir,
      "argo-rollouts",
      CHARTS.argoRollouts.version,
      "argo-rollouts",
      "crds",
      path.basename(source),
    );
    const [original] = parseAllDocuments(fs.readFileSync(source, "utf8")).map((d) => d.toJS() as unknown);
    const [stripped] = parseAllDocuments(fs.readFileSync(standIn, "utf8")).map((d) => d.toJS() as unknown);
    const withoutDescriptions = JSON.stringify(original, (k, v: unknown) =>
      k === "description" && typeof v === "string" ? undefined : v,
    );
    assert.equal(JSON.stringify(stripped), withoutDescriptions);
    assert.ok(JSON.stringify(stripped).length < JSON.stringify(original).length);
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  });
});

describe("e2e lane: reading the engine's events", () => {
  const step = (op: string, urn: string, diffs?: string[]) => ({
    op,
    urn,
    type: urn.split("::")[2] ?? "",
    ...(diffs ? { diffs } : {}),
  });
  const events: EngineEvent[] = [
    { resourcePreEvent: { metadata: step("same", "urn:pulumi:dev::doc-rag::kubernetes:core/v1:Namespace::a") } },
    {
      resourcePreEvent: {
        metadata: step("update", "urn:pulumi:dev::doc-rag::kubernetes:core/v1:ConfigMap::b", ["data"]),
      },
    },
    { resourcePreEvent: { metadata: step("create", "urn:pulumi:dev::doc-rag::kubernetes:core/v1:Secret::c") } },
    { resOutputsEvent: { metadata: step("create", "urn:pulumi:dev::doc-rag::kubernetes:core/v1:Secret::c") } },
    { diagnosticEvent: { urn: "urn:x", message: "quota exceeded\n", severity: "error" } },
    { diagnosticEvent: { message: "just so you know", severity: "warning" } },
    { policyEvent: { resourceUrn: "urn:y", message: "m", policyName: "p", enforcementLevel: "mandatory" } },
  ];

  it("lists what a preview would still change, what an up created, what was refused and the pack's findings", () => {
    assert.deepEqual(changes(events), [
      "update urn:pulumi:dev::doc-rag::kubernetes:core/v1:ConfigMap::b (data)",
      "create urn:pulumi:dev::doc-rag::kubernetes:core/v1:Secret::c",
    ]);
    assert.deepEqual(planned(events), ["urn:pulumi:dev::doc-rag::kubernetes:core/v1:Secret::c"]);
    assert.deepEqual(
      created(events).map((m) => m.urn),
      ["urn:pulumi:dev::doc-rag::kubernetes:core/v1:Secret::c"],
    );
    assert.deepEqual(refusals(events), [{ urn: "urn:x", message: "quota exceeded" }]);
    assert.deepEqual(policyFindings(events), [{ level: "mandatory", policy: "p", urn: "urn:y", message: "m" }]);
  });
});

describe("e2e lane: its cluster and its cache", () => {
  it("offers nodes the program's pods can land on: CPU nodes for one api pod per host, GPU nodes as labelled and tainted", () => {
    const nodes = fakeNodes() as {
      metadata: { labels: Record<string, string> };
      spec: { taints?: { key: string }[] };
    }[];
    const gpu = nodes.filter((n) => n.metadata.labels["accelerator"] === "nvidia-tesla-v100");
    assert.ok(nodes.length - gpu.length >= 5, "production runs 5 api pods, one per host");
    assert.ok(gpu.length >= 2 && gpu.every((n) => n.spec.taints?.some((t) => t.key === "nvidia.com/gpu")));
  });

  it("keys the engine cache by the versions and the recipe's contents", () => {
    const recipe = tmp();
    fs.writeFileSync(path.join(recipe, "build-all.sh"), "echo a\n");
    const before = engineKey(recipe);
    assert.match(before, /^pulumi-3\.248\.0_k8s-4\.25\.0-dev\.f47bc2d6f199_kube-v1\.36\.3_kwok-v0\.8\.0_[0-9a-f]{12}$/);
    fs.writeFileSync(path.join(recipe, "build-all.sh"), "echo b\n");
    assert.notEqual(engineKey(recipe), before);
    fs.rmSync(recipe, { recursive: true, force: true });
  });
});
