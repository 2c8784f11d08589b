import * as assert from "node:assert/strict";
import { ConfigError, parseConfig, reviewId } from "../components/config";
import { SHARED_CRDS } from "../components/platform/sharedCluster";
import { policies } from "../policies/pack";
import {
  evaluatePack,
  find,
  kubernetesObjects,
  MOCK_ORGANIZATION,
  ofType,
  policyTargets,
  runStack,
  stackPackConfig,
  validateKubernetesObjects,
  type RecordedResource,
  type StackRun,
  type Values,
} from "./harness";

const HELM = "kubernetes:helm.sh/v3:Release";
const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const TTL = "pulumiservice:index:TtlSchedule";
const HOUR = 3_600_000;

// Review stacks as Pulumi Deployments makes them: copies of the pr template's config under
// their own names (which end in the pull request's number).
const PR_17 = "pr-pulumi-doc-rag-doc-rag-platform-17";
const PR_42 = "pr-pulumi-doc-rag-doc-rag-platform-42";
const review = (stack: string, overrides: string[] = []) => runStack(stack, { configFrom: "pr", overrides });

/** Everything a stack would own in the cluster: `kind namespace/name`, releases included. */
function clusterIdentities(run: StackRun): Set<string> {
  const objects = kubernetesObjects(run).map(
    ({ object }) => `${object.kind} ${object.metadata.namespace ?? ""}/${object.metadata.name}`,
  );
  const releases = ofType(run, HELM).map(
    (r) => `HelmRelease ${String(r.inputs["namespace"])}/${String(r.inputs["name"])}`,
  );
  return new Set([...objects, ...releases]);
}

const overlap = (a: Set<string>, b: Set<string>) => [...a].filter((id) => b.has(id));
const readOf = (run: StackRun, crd: string) =>
  run.resources.find(
    (r) =>
      r.read &&
      r.type.endsWith(":CustomResourceDefinition") &&
      r.inputs["metadata"] &&
      (r.inputs["metadata"] as Values)["name"] === crd,
  )!;

let runs: { pr17: StackRun; pr42: StackRun; staging: StackRun };
let started: number;
let finished: number;
before(async () => {
  started = Date.now();
  const [pr17, pr42, staging] = await Promise.all([review(PR_17), review(PR_42), runStack("staging")]);
  finished = Date.now();
  runs = { pr17: pr17!, pr42: pr42!, staging: staging! };
  for (const run of Object.values(runs)) assert.equal(run.error, undefined, run.error?.message);
});

describe("review stacks: what each pull request's copy of the pr stack creates", () => {
  it("creates its own application and data namespaces, named with the pull request, and no other", () => {
    assert.deepEqual(runs.pr17.outputs["namespaces"], {
      application: "doc-rag-review-pr-17",
      data: "doc-rag-review-data-pr-17",
    });
    assert.deepEqual(
      ofType(runs.pr42, "kubernetes:core/v1:Namespace").map((n) => (n.inputs["metadata"] as Values)["name"]),
      ["doc-rag-review-pr-42", "doc-rag-review-data-pr-42"],
    );
  });

  it("puts every object and release in those two namespaces: nothing cluster-wide, nothing in the owner's", () => {
    const own = ["doc-rag-review-pr-17", "doc-rag-review-data-pr-17"];
    for (const { object } of kubernetesObjects(runs.pr17)) {
      const where = object.kind === "Namespace" ? object.metadata.name : object.metadata.namespace;
      assert.ok(own.includes(String(where)), `${object.kind} ${object.metadata.name} in ${String(where)}`);
    }
    for (const release of ofType(runs.pr17, HELM)) assert.ok(own.includes(String(release.inputs["namespace"])));
  });

  it("installs no operator: only the data services' own charts", () => {
    assert.deepEqual(
      ofType(runs.pr17, HELM)
        .map((r) => r.inputs["chart"])
        .sort(),
      ["cluster", "qdrant", "valkey"],
    );
  });

  it("shares no object with another review stack or with staging, whose cluster it uses", () => {
    const pr17 = clusterIdentities(runs.pr17);
    assert.ok(pr17.size > 50);
    assert.deepEqual(overlap(pr17, clusterIdentities(runs.pr42)), []);
    assert.deepEqual(overlap(pr17, clusterIdentities(runs.staging)), []);
  });

  it("reads the CRDs it relies on from the cluster, and its custom resources wait for the read", () => {
    const monitoring = readOf(runs.pr17, SHARED_CRDS.monitoring);
    const postgres = readOf(runs.pr17, SHARED_CRDS.postgres);
    assert.ok(monitoring && postgres, "both CRDs are read");
    // From the shared cluster, never from whatever context is current.
    const provider = `${find(runs.pr17, "pulumi:providers:kubernetes", "kubernetes").urn}::kubernetes-id`;
    assert.deepEqual([monitoring.provider, postgres.provider], [provider, provider]);
    assert.ok(find(runs.pr17, HELM, "postgres-cluster").options.dependsOn.includes(postgres.urn));
    for (const monitor of ofType(runs.pr17, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor")) {
      assert.ok(monitor.options.dependsOn.includes(monitoring.urn), monitor.name);
    }
  });

  it("lets staging's CloudNativePG operator reach its instances, and staging's operator reach every namespace's", () => {
    const ingress = find(runs.pr17, NETWORK_POLICY, "postgres-status-from-operator").inputs["spec"] as Values;
    assert.deepEqual(ingress["ingress"][0].from[0].namespaceSelector, {
      matchLabels: { "kubernetes.io/metadata.name": "doc-rag-staging-data" },
    });
    const egress = find(runs.staging, NETWORK_POLICY, "postgres-operator-to-status").inputs["spec"] as Values;
    assert.deepEqual(egress["egress"][0].to, [
      { namespaceSelector: {}, podSelector: { matchLabels: { "cnpg.io/cluster": "doc-rag-postgres" } } },
    ]);
    // The review stack's own PostgreSQL raises no alerts: they would reach staging's receivers.
    const cluster = find(runs.pr17, HELM, "postgres-cluster").inputs["values"] as Values;
    assert.equal(cluster["cluster"].monitoring.prometheusRule.enabled, false);
  });

  it("is scraped by staging's Prometheus through ServiceMonitors in its own application namespace", () => {
    const monitors = ofType(runs.pr17, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor");
    assert.equal(monitors.length, 6, "one per service");
    for (const m of monitors) {
      const spec = m.inputs["spec"] as Values;
      assert.equal((m.inputs["metadata"] as Values)["namespace"], "doc-rag-review-pr-17");
      assert.deepEqual(spec["namespaceSelector"], { matchNames: ["doc-rag-review-pr-17"] });
    }
    const metrics = find(runs.pr17, NETWORK_POLICY, "observability-application-metrics-from-prometheus");
    assert.deepEqual((metrics.inputs["spec"] as Values)["ingress"][0].from[0].namespaceSelector, {
      matchLabels: { "kubernetes.io/metadata.name": "doc-rag-staging-monitoring" },
    });
    assert.equal(ofType(runs.pr17, "kubernetes:monitoring.coreos.com/v1:PrometheusRule").length, 0);
  });

  it("runs the six services as plain Deployments, reachable from outside only by port-forward, without traces", () => {
    assert.equal(ofType(runs.pr17, "kubernetes:apps/v1:Deployment").length, 6);
    for (const kind of ["HTTPRoute", "Gateway", "ClusterIssuer", "Rollout"]) {
      assert.equal(kubernetesObjects(runs.pr17).filter(({ object }) => object.kind === kind).length, 0, kind);
    }
    assert.equal(runs.pr17.outputs["apiHost"], undefined);
    const names = ofType(runs.pr17, NETWORK_POLICY).map((p) => p.name);
    assert.ok(!names.includes("service-api-callers"), "nothing may call the api");
    assert.ok(!names.some((n) => n.endsWith("-to-tracing")), "no egress to a collector");
    const api = find(runs.pr17, "kubernetes:apps/v1:Deployment", "service-api-deployment").inputs["spec"] as Values;
    const env = api["template"].spec.containers[0].env as { name: string; value?: string }[];
    assert.deepEqual(
      env.filter((e) => e.name.startsWith("OTEL_") && e.name !== "OTEL_SERVICE_NAME"),
      [{ name: "OTEL_SDK_DISABLED", value: "true" }],
    );
  });

  it("keeps its secrets in Kubernetes Secrets in its own namespaces, without Vault, GitHub or deployment settings", () => {
    assert.equal(runs.pr17.outputs["secretsBackend"], "kubernetes");
    assert.deepEqual(
      ofType(runs.pr17, "kubernetes:core/v1:Secret")
        .map((s) => (s.inputs["metadata"] as Values)["name"])
        .sort(),
      ["doc-rag-postgres-app", "doc-rag-qdrant-api-key", "doc-rag-registry", "doc-rag-secrets", "doc-rag-valkey-users"],
    );
    const foreign = runs.pr17.resources.filter((r) => /^(vault|github):/.test(r.type));
    assert.deepEqual(foreign, []);
    assert.deepEqual(
      runs.pr17.resources.filter((r) => r.type.startsWith("pulumiservice:")).map((r) => r.type),
      [TTL],
    );
  });

  it("passes the official schemas and the pack under pr.json without a single violation", async () => {
    assert.deepEqual(await validateKubernetesObjects(runs.pr17), []);
    const report = await evaluatePack(policies, policyTargets(runs.pr17), stackPackConfig("pr"));
    assert.deepEqual(
      report.violations.map((v) => `${v.policy}: ${v.message}`),
      [],
    );
  });
});

describe("review stacks: their time to live", () => {
  const schedule = (run: StackRun): RecordedResource => ofType(run, TTL)[0]!;

  it("schedules its own destruction, then deletion, ttlHours (72) after its first update", () => {
    const ttl = schedule(runs.pr17);
    assert.deepEqual(
      [ttl.inputs["organization"], ttl.inputs["project"], ttl.inputs["stack"], ttl.inputs["deleteAfterDestroy"]],
      [MOCK_ORGANIZATION, "doc-rag", PR_17, true],
    );
    const at = Date.parse(String(ttl.inputs["timestamp"]));
    // Whole seconds, as Pulumi Cloud takes them: within the run, 72 hours on.
    assert.match(String(ttl.inputs["timestamp"]), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(at >= Math.floor(started / 1000) * 1000 + 72 * HOUR && at <= finished + 72 * HOUR, String(at));
    assert.equal(runs.pr17.outputs["reviewExpiresAt"], ttl.inputs["timestamp"]);
  });

  it("keeps the time fixed at creation, and never deletes the schedule that is destroying it", () => {
    const ttl = schedule(runs.pr17);
    assert.deepEqual(ttl.options.ignoreChanges, ["timestamp"]);
    assert.equal(ttl.options.retainOnDelete, true);
  });

  it("takes its TTL from review.ttlHours", async () => {
    const short = await review(PR_17, [
      'doc-rag:review={"ttlHours":4,"postgresOperatorNamespace":"doc-rag-staging-data"}',
    ]);
    const at = Date.parse(String(schedule(short).inputs["timestamp"]));
    assert.ok(at <= Date.now() + 4 * HOUR && at > Date.now() - HOUR + 4 * HOUR, String(at));
  });

  it("exists only in review stacks", () => {
    assert.equal(ofType(runs.staging, TTL).length, 0);
    assert.equal(runs.staging.outputs["reviewExpiresAt"], undefined);
  });
});

describe("review stacks: config", () => {
  const base = {
    "doc-rag:environment": "dev",
    "doc-rag:kubeContext": "shared-staging",
    "doc-rag:review": JSON.stringify({ postgresOperatorNamespace: "doc-rag-staging-data" }),
  };
  const problems = (raw: Record<string, string>, stack = "pr-7"): string[] => {
    try {
      parseConfig(raw, new Set(), stack);
      return [];
    } catch (err) {
      assert.ok(ConfigError.is(err), String(err));
      return err.problems;
    }
  };

  it("names a review stack after its pull request, or after itself", () => {
    assert.equal(reviewId(PR_42), "pr-42");
    assert.equal(reviewId("pr"), "pr");
    assert.equal(reviewId("Feature_Search.Rework-Branch-Long"), "feature-search-rewor");
    assert.equal(parseConfig(base, new Set(), "pr-7").namespaces.data.name, "doc-rag-data-pr-7");
    // Roles a review stack does not create keep the configured (owner's) names.
    assert.equal(parseConfig(base, new Set(), "pr-7").namespaces.monitoring.name, "doc-rag-monitoring");
  });

  it("refuses review outside dev-shaped stacks, naming the key and the value", async () => {
    const run = await runStack("staging", {
      overrides: ['doc-rag:review={"postgresOperatorNamespace":"doc-rag-staging-data"}'],
    });
    assert.match(
      run.error?.message ?? "",
      /doc-rag:review: must not be set in staging: review stacks are dev-shaped copies .* \(got \{"ttlHours":72,"postgresOperatorNamespace":"doc-rag-staging-data"\}\)/,
    );
    assert.equal(run.resources.length, 0);
  });

  it("refuses a TTL outside 1 to 720 hours, a missing operator namespace, protection and no cluster", () => {
    const review = (value: object) => ({ ...base, "doc-rag:review": JSON.stringify(value) });
    assert.deepEqual(problems(review({ ttlHours: 0, postgresOperatorNamespace: "x" })), [
      "doc-rag:review.ttlHours: must be between 1 and 720 (30 days) (got 0)",
    ]);
    assert.deepEqual(problems(review({ ttlHours: 1000, postgresOperatorNamespace: "x" })), [
      "doc-rag:review.ttlHours: must be between 1 and 720 (30 days) (got 1000)",
    ]);
    assert.match(problems(review({}))[0] ?? "", /^doc-rag:review\.postgresOperatorNamespace: is required/);
    assert.deepEqual(problems({ ...base, "doc-rag:protectStatefulResources": "true" }), [
      "doc-rag:protectStatefulResources: must be false in a review stack: its TTL and the pull request's close destroy it (got true)",
    ]);
    const noCluster: Record<string, string> = { ...base };
    delete noCluster["doc-rag:kubeContext"];
    assert.match(
      problems(noCluster)[0] ?? "",
      /^doc-rag:kubeContext: is required; must be set \(or kubeconfig\) in a review stack/,
    );
  });

  it("refuses a namespace name the pull request's suffix would make too long", () => {
    const name = "a".repeat(60);
    const raw = { ...base, "doc-rag:namespaces": JSON.stringify({ application: { name } }) };
    assert.deepEqual(problems(raw, "pr-1234"), [
      `doc-rag:namespaces.application.name: is too long for review stacks: with the suffix it becomes "${name}-pr-1234" (68 characters; a namespace name has at most 63) (got "${name}")`,
    ]);
  });
});
