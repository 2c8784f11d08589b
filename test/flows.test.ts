import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";
import { HELM_RELEASE } from "../policies/lib/kubernetes";
import { buildModel } from "../tools/flows/model";
import {
  analyzeFlows,
  flowDot,
  flowFindings,
  flowMatrix,
  modelConfigFor,
  type FlowReport,
} from "../tools/flows/report";
import type { KubeObject, Placed } from "../lib/placed";
import { ofType, PROJECT_ROOT, runStack } from "./harness";
import { main as flowsMain } from "../tools/flows";
import { programObjects } from "../tools/render";
import { captureConsole } from "./harness/console";
import { launch, runToolOn } from "./harness/tools";

const STACKS = ["dev", "pr", "staging", "production"] as const;
const options = (stack: string) => (stack === "pr" ? { configFrom: "pr" } : {});

/** The program's own objects, judged alone (what `npm test` can see without the charts). */
async function programFlows(stack: string, extra: Placed[] = [], drop: string[] = []): Promise<FlowReport> {
  const run = await runStack(stack, options(stack));
  assert.equal(run.error, undefined, run.error?.message);
  const chartNamespaces = ofType(run, HELM_RELEASE).map((r) => String(r.inputs["namespace"]));
  const placed = [...programObjects(run), ...extra].filter(
    (p) => !(p.object.kind === "NetworkPolicy" && drop.includes(p.object.metadata.name)),
  );
  return analyzeFlows(buildModel(placed, modelConfigFor(PROJECT_ROOT, stack), { chartNamespaces }));
}

/** What the real charts render for production, cut to what the model reads (see the fixture's header). */
const CHART_OBJECTS: Placed[] = parseAllDocuments(
  fs.readFileSync(path.join(PROJECT_ROOT, "test", "fixtures", "flows", "production-charts.yaml"), "utf8"),
).map((d) => {
  const object = d.toJS() as KubeObject;
  return {
    object,
    namespace: object.metadata.namespace ?? "",
    release: object.metadata.annotations?.["flows.test/release"] ?? "",
  };
});

const blocked = (report: FlowReport) =>
  report.required.filter((f) => !f.allowed).map((f) => `${f.from} → ${f.to}:${f.port}`);

describe("network flows: the program's own objects, per stack", () => {
  for (const stack of STACKS) {
    it(`${stack}: every flow it needs is allowed, and every monitor and webhook finds what it names`, async () => {
      const report = await programFlows(stack);
      assert.ok(report.required.length >= 18, `${report.required.length} required flows`);
      assert.deepEqual(blocked(report), []);
      assert.deepEqual(
        report.problems.filter((p) => p.level === "error").map((p) => p.message),
        [],
      );
      // The services' calls and their traces are among them, with the policies that allow them.
      const call = report.required.find((f) => f.kind === "call" && f.from.endsWith("/api"));
      assert.ok(call && Array.isArray(call.egress) && call.egress.length && Array.isArray(call.ingress));
    });
  }

  it("a ServiceMonitor that selects no Service fails where the objects are complete (the exporter no stack deploys)", async () => {
    const run = await runStack("production");
    const app = String((run.outputs["namespaces"] as Record<string, string>)["application"]);
    const monitor: KubeObject = {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "ServiceMonitor",
      metadata: { name: "doc-rag-business-metrics-exporter", namespace: "doc-rag-prod-monitoring" },
      spec: {
        selector: { matchLabels: { "app.kubernetes.io/name": "business-metrics-exporter" } },
        namespaceSelector: { matchNames: [app] },
        endpoints: [{ port: "metrics" }],
      },
    };
    const report = await programFlows("production", [{ object: monitor, namespace: "doc-rag-prod-monitoring" }]);
    assert.deepEqual(
      report.problems.filter((p) => p.level === "error").map((p) => p.message),
      [`ServiceMonitor doc-rag-prod-monitoring/doc-rag-business-metrics-exporter selects no Service (in ${app})`],
    );
    // Where a chart renders (the data namespace), a missing Service is left to the render gate.
    assert.ok(
      report.problems.some((p) => p.level === "advisory" && /doc-rag-postgres-rw does not exist/.test(p.message)),
    );
    assert.ok(flowFindings(report).some((f) => f.level === "error" && /selects no Service/.test(f.message)));
  });
});

describe("network flows: the ones the review found blocked, against what the charts render", () => {
  /** Each fixed flow, and the program's policy that opens it: without that policy, it is blocked again. */
  const FIXES: { flow: RegExp; policy: string }[] = [
    {
      flow: /prometheus → doc-rag-prod-security\/external-secrets-webhook:8080$/,
      policy: "external-secrets-metrics-from-prometheus",
    },
    {
      flow: /prometheus → doc-rag-prod-security\/external-secrets-cert-controller:8080$/,
      policy: "external-secrets-metrics-from-prometheus",
    },
    { flow: /prometheus → doc-rag-prod-security\/cert-manager:9402$/, policy: "cert-manager-metrics-from-prometheus" },
    {
      flow: /prometheus → doc-rag-prod-security\/cert-manager-webhook:9402$/,
      policy: "cert-manager-metrics-from-prometheus",
    },
    {
      flow: /prometheus → doc-rag-prod-delivery\/argo-rollouts:8090$/,
      policy: "argo-rollouts-metrics-from-prometheus",
    },
    {
      flow: /^outside:kubernetesApi → doc-rag-prod-gateway\/envoy-gateway:9443$/,
      policy: "envoy-gateway-webhook-from-kubernetes-api",
    },
    {
      flow: /^doc-rag-prod-security\/cert-manager → doc-rag-prod-gateway\/envoy-.*:10080$/,
      policy: "envoy-acme-self-check-from-cert-manager",
    },
  ];
  let fixed: FlowReport;
  before(async () => {
    fixed = await programFlows("production", CHART_OBJECTS);
  });
  const lines = (report: FlowReport) => report.required.map((f) => `${f.from} → ${f.to}:${f.port}`);

  for (const { flow, policy } of FIXES) {
    it(`${flow.source}: needed, allowed, and blocked without ${policy}`, async () => {
      const needed = lines(fixed).filter((l) => flow.test(l));
      assert.ok(needed.length > 0, `the model requires ${flow.source}`);
      assert.deepEqual(
        blocked(fixed).filter((l) => flow.test(l)),
        [],
      );
      const without = await programFlows("production", CHART_OBJECTS, [policy]);
      assert.deepEqual(
        blocked(without).filter((l) => flow.test(l)),
        needed,
      );
    });
  }

  it("with the charts' objects too, nothing the platform needs is blocked, and Graphviz draws it", () => {
    assert.deepEqual(blocked(fixed), []);
    const svg = runToolOn("dot", { "f.dot": flowDot(fixed, "production") }, ["-Tsvg", "f.dot"]);
    assert.equal(svg.status, 0, svg.output);
  });
});

describe("npm run flows", () => {
  it("prints the matrix and writes JSON and a DOT file that Graphviz renders, for every stack", async () => {
    // The command line itself, once (it runs the build from dist/); the stacks in-process.
    const cli = launch("flows", ["production", "--charts", path.join(os.tmpdir(), "no-such-charts")]);
    assert.equal(cli.status, 1, "an explicit chart cache without the charts is an error");
    assert.match(cli.stderr, /not in the chart cache .*run npm run charts:pull/);
    for (const stack of STACKS) {
      const out = fs.mkdtempSync(path.join(os.tmpdir(), `flows-${stack}-`));
      try {
        const result = await captureConsole(() => flowsMain([stack, "--own", "--out", out]));
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, new RegExp(`Network flows of stack ${stack}, from the program's own objects`));
        assert.match(result.stdout, /allowed {2}\S+ → \S+:53\/UDP {2}\[dns\]/);
        const report = JSON.parse(fs.readFileSync(path.join(out, "flows.json"), "utf8")) as FlowReport;
        assert.equal(flowMatrix(report).length, report.required.length);
        const svg = runToolOn("dot", { "flows.dot": fs.readFileSync(path.join(out, "flows.dot"), "utf8") }, [
          "-Tsvg",
          "flows.dot",
        ]);
        assert.equal(svg.status, 0, svg.output);
        assert.match(svg.stdout, /<svg[\s\S]*cluster_0[\s\S]*<\/svg>/);
      } finally {
        fs.rmSync(out, { recursive: true, force: true });
      }
    }
  });

  it("refuses a project that does not exist (layers.test.ts compares the whole environment with the single stack)", async () => {
    const bad = await captureConsole(() => flowsMain(["production", "--project", "web"]));
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--project "web": must be one of cluster, data, app, governance, single/);
  });

  it("the DOT marks a blocked flow red, and Graphviz refuses broken DOT (the check can fail)", () => {
    const report: FlowReport = {
      partial: true,
      required: [
        {
          kind: "call",
          why: "t",
          from: "a/x",
          to: "b/y",
          port: 80,
          protocol: "TCP",
          allowed: false,
          egress: [],
          ingress: "open",
        },
      ],
      problems: [],
      unexplained: {},
      nodes: { namespaces: { a: ["a/x"], b: ["b/y"] }, outside: [] },
    };
    assert.match(flowDot(report, "t"), /"a\/x" -> "b\/y" \[label="80\/TCP", color=red, style=bold\]/);
    assert.notEqual(runToolOn("dot", { "x.dot": "digraph { a -> }" }, ["-Tsvg", "x.dot"]).status, 0);
    assert.ok(spawnSync("dot", ["-V"]).status === 0);
  });
});

describe("network flows with every egress purpose narrowed to a single address", () => {
  /** Each purpose of doc-rag:egress at one address of its own, on its default ports. */
  const narrowed = (stack: string) => {
    const purposes = Object.keys(modelConfigFor(PROJECT_ROOT, stack).egress);
    const egress = Object.fromEntries(purposes.map((p, i) => [p, { cidrs: [`203.0.113.${i + 1}/32`] }]));
    return `doc-rag:egress=${JSON.stringify(egress)}`;
  };
  for (const stack of STACKS) {
    it(`${stack}: every flow it needs stays open${stack === "production" ? ", the charts' included" : ""}`, async () => {
      const override = narrowed(stack);
      const run = await runStack(stack, { ...options(stack), overrides: [override] });
      assert.equal(run.error, undefined, run.error?.message);
      const chartNamespaces = ofType(run, HELM_RELEASE).map((r) => String(r.inputs["namespace"]));
      const extra = stack === "production" ? CHART_OBJECTS : [];
      const report = analyzeFlows(
        buildModel([...programObjects(run), ...extra], modelConfigFor(PROJECT_ROOT, stack, [override]), {
          chartNamespaces,
        }),
      );
      assert.deepEqual(blocked(report), []);
      if (stack !== "production") return;
      // The controller's plugin download is required, and open only by its own purpose: without that
      // policy, a kubernetesApi narrowed to the API server no longer carries it.
      const download = /^doc-rag-prod-delivery\/argo-rollouts → outside:rolloutsPlugin:443$/;
      assert.ok(report.required.some((f) => download.test(`${f.from} → ${f.to}:${f.port}`) && f.allowed));
      const withoutPurpose = analyzeFlows(
        buildModel(
          [...programObjects(run), ...extra].filter((p) => p.object.metadata.name !== "argo-rollouts-to-plugin-source"),
          modelConfigFor(PROJECT_ROOT, stack, [override]),
          { chartNamespaces },
        ),
      );
      assert.deepEqual(
        blocked(withoutPurpose).filter((l) => download.test(l)),
        ["doc-rag-prod-delivery/argo-rollouts → outside:rolloutsPlugin:443"],
      );
    });
  }
});
