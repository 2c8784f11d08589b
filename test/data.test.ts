import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { CHARTS, type Chart } from "../components/charts";
import { podSecurityRestricted } from "../policies/workloads";
import {
  find,
  ofType,
  PROJECT_ROOT,
  runResourcePolicy,
  runStack,
  type RecordedResource,
  type StackRun,
  type Values,
} from "./harness";

const HELM = "kubernetes:helm.sh/v3:Release";
const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";

const release = (run: StackRun, name: string) => find(run, HELM, name);
const values = (run: StackRun, name: string) => release(run, name).inputs["values"] as Values;
const chartOf = (r: RecordedResource) => [
  r.inputs["chart"],
  r.inputs["version"],
  (r.inputs["repositoryOpts"] as { repo: string }).repo,
];

const STACKS = ["dev", "staging", "production"] as const;
let runs: Record<(typeof STACKS)[number], StackRun>;
before(async () => {
  const [dev, staging, production] = await Promise.all(STACKS.map((s) => runStack(s)));
  runs = { dev: dev!, staging: staging!, production: production! };
});

describe("data: PostgreSQL with CloudNativePG", () => {
  it("installs the operator and the cluster chart, pinned, in the data namespace", () => {
    const { production } = runs;
    assert.deepEqual(chartOf(release(production, "postgres-operator")), [
      "cloudnative-pg",
      "0.29.0",
      "https://cloudnative-pg.github.io/charts",
    ]);
    assert.deepEqual(chartOf(release(production, "postgres-cluster")), [
      "cluster",
      "0.5.0",
      "https://cloudnative-pg.github.io/charts",
    ]);
    for (const name of ["postgres-operator", "postgres-cluster"])
      assert.equal(release(production, name).inputs["namespace"], "doc-rag-prod-data");
    const operator = values(production, "postgres-operator");
    assert.deepEqual(operator["crds"], { create: true });
    assert.equal(operator["monitoring"].podMonitorEnabled, true);
    assert.equal(operator["replicaCount"], 2);
  });

  it("production: 3 instances, 100Gi on fast-ssd, requests and limits, monitoring, credentials from the secret path", () => {
    const v = values(runs.production, "postgres-cluster");
    assert.equal(v["fullnameOverride"], "doc-rag-postgres");
    assert.equal(v["version"].postgresql, "17");
    const cluster = v["cluster"];
    assert.equal(cluster.instances, 3);
    assert.equal(cluster.primaryUpdateStrategy, "unsupervised");
    assert.deepEqual(cluster.storage, { size: "100Gi", storageClass: "fast-ssd" });
    assert.deepEqual(cluster.resources, {
      requests: { cpu: "2", memory: "8Gi" },
      limits: { cpu: "4", memory: "16Gi" },
    });
    assert.deepEqual(cluster.monitoring, {
      enabled: true,
      podMonitor: { enabled: true },
      prometheusRule: { enabled: true },
    });
    assert.deepEqual(cluster.initdb, { database: "docrag", owner: "docrag", secret: { name: "doc-rag-postgres-app" } });
    assert.equal(cluster.enableSuperuserAccess, false);
    assert.equal(cluster.enablePDB, true);
  });

  it("production: scheduled backups to the configured object store, with the pods' cloud identity", () => {
    const backups = values(runs.production, "postgres-cluster")["backups"];
    assert.equal(backups.enabled, true);
    assert.equal(backups.destinationPath, "s3://doc-rag-backups/production/postgres");
    assert.deepEqual(backups.s3, { region: "eu-central-1", inheritFromIAMRole: true });
    assert.deepEqual(backups.secret, { create: false, name: "" });
    assert.deepEqual(backups.scheduledBackups, [
      { name: "daily", schedule: "0 0 2 * * *", backupOwnerReference: "self", method: "barmanObjectStore" },
    ]);
    assert.equal(backups.retentionPolicy, "30d");
  });

  it("uses a credentials Secret for the object store when one is configured", async () => {
    const run = await runStack("staging", { overrides: ["doc-rag:postgres.backups.credentialsSecret=s3-creds"] });
    const backups = values(run, "postgres-cluster")["backups"];
    assert.deepEqual(backups.s3.inheritFromIAMRole, false);
    assert.deepEqual(backups.secret, { create: false, name: "s3-creds" });
  });

  it("staging and dev: smaller, and dev without backups", () => {
    const staging = values(runs.staging, "postgres-cluster");
    assert.equal(staging["cluster"].instances, 2);
    assert.deepEqual(staging["cluster"].storage, { size: "20Gi", storageClass: "fast-ssd" });
    assert.equal(staging["backups"].retentionPolicy, "7d");
    const dev = values(runs.dev, "postgres-cluster");
    assert.equal(dev["cluster"].instances, 1);
    assert.deepEqual(dev["cluster"].storage, { size: "5Gi", storageClass: "standard" });
    assert.deepEqual(dev["backups"], { enabled: false });
    assert.equal(values(runs.dev, "postgres-operator")["replicaCount"], 1);
  });

  it("installs the cluster after its operator (CRDs), its credentials and the monitoring CRDs", () => {
    const { production } = runs;
    const cluster = release(production, "postgres-cluster");
    for (const [type, name] of [
      [HELM, "postgres-operator"],
      [HELM, "addons-prometheus-operator-crds"],
      ["kubernetes:external-secrets.io/v1:ExternalSecret", "secrets-postgres"],
    ] as const) {
      assert.ok(cluster.options.dependsOn.includes(find(production, type, name).urn), `waits for ${name}`);
    }
  });
});

describe("data: the Valkey cache", () => {
  it("production: pinned chart, primary and 2 replicas, 20Gi each on fast-ssd, ACL auth from the secret, metrics", () => {
    const r = release(runs.production, "valkey-release");
    assert.deepEqual(chartOf(r), ["valkey", "0.9.4", "https://valkey.io/valkey-helm/"]);
    const v = values(runs.production, "valkey-release");
    assert.deepEqual(v["replica"], {
      enabled: true,
      replicas: 2,
      replicationUser: "default",
      persistence: { size: "20Gi", storageClass: "fast-ssd" },
    });
    assert.deepEqual(v["dataStorage"], { enabled: false });
    assert.deepEqual(v["auth"], {
      enabled: true,
      usersExistingSecret: "doc-rag-valkey-users",
      aclUsers: { default: { permissions: "~* &* +@all" } },
    });
    assert.equal(v["metrics"].enabled, true);
    assert.deepEqual(v["metrics"].serviceMonitor, { enabled: true });
    assert.deepEqual(v["podDisruptionBudget"], { enabled: true, maxUnavailable: 1 });
  });

  it("dev: one instance on its own volume, no disruption budget", () => {
    const v = values(runs.dev, "valkey-release");
    assert.deepEqual(v["replica"], { enabled: false });
    assert.deepEqual(v["dataStorage"], { enabled: true, requestedSize: "2Gi", className: "standard", keepPvc: true });
    assert.equal(v["podDisruptionBudget"].enabled, false);
  });
});

describe("data: Qdrant", () => {
  it("production: pinned official chart, 3 replicas clustered, 50Gi volumes, API key from the secret, metrics", () => {
    const r = release(runs.production, "qdrant-release");
    assert.deepEqual(chartOf(r), ["qdrant", "1.16.2", "https://qdrant.github.io/qdrant-helm"]);
    const v = values(runs.production, "qdrant-release");
    assert.equal(v["replicaCount"], 3);
    assert.equal(v["config"].cluster.enabled, true);
    assert.deepEqual(v["persistence"], { accessModes: ["ReadWriteOnce"], size: "50Gi", storageClassName: "fast-ssd" });
    // Read by Qdrant at start from the managed Secret, never copied by the chart at render time.
    assert.equal(v["apiKey"], undefined);
    const ref = { name: "doc-rag-qdrant-api-key", key: "api-key" };
    assert.deepEqual(v["env"], [{ name: "QDRANT__SERVICE__API_KEY", valueFrom: { secretKeyRef: ref } }]);
    assert.deepEqual(v["metrics"], {
      serviceMonitor: { enabled: true, authorization: { type: "Bearer", credentials: ref } },
    });
    assert.deepEqual(v["podDisruptionBudget"], { enabled: true, maxUnavailable: 1 });
    assert.equal(v["updateVolumeFsOwnership"], false);
  });

  it("staging and dev: one replica, not clustered, no disruption budget", () => {
    for (const run of [runs.staging, runs.dev]) {
      const v = values(run, "qdrant-release");
      assert.equal(v["replicaCount"], 1);
      assert.equal(v["config"].cluster.enabled, false);
      assert.equal(v["podDisruptionBudget"].enabled, false);
    }
  });
});

describe("data: what every data service shares", () => {
  /** Where each chart takes its pod and container security contexts. */
  const CONTEXTS: Record<string, [string, string][]> = {
    "postgres-operator": [["podSecurityContext", "containerSecurityContext"]],
    "postgres-cluster": [["cluster.podSecurityContext", "cluster.securityContext"]],
    "valkey-release": [
      ["podSecurityContext", "securityContext"],
      ["podSecurityContext", "metrics.exporter.securityContext"],
    ],
    "qdrant-release": [["podSecurityContext", "containerSecurityContext"]],
    "secrets-operator-release": [["podSecurityContext", "securityContext"]],
  };
  const at = (v: Values, path: string): Values => path.split(".").reduce((o, k) => o[k], v);
  /** Drops a chart's own `enabled` switch, which is not a Kubernetes field. */
  const kubernetesFields = (context: Values): Values =>
    Object.fromEntries(Object.entries(context).filter(([k]) => k !== "enabled"));

  it("gives every pod security contexts that pass the restricted Pod Security Standard", async () => {
    for (const [name, pairs] of Object.entries(CONTEXTS)) {
      for (const [podPath, containerPath] of pairs) {
        const v = values(runs.production, name);
        const podContext = kubernetesFields(at(v, podPath));
        const containerContext = kubernetesFields(at(v, containerPath));
        const pod = {
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name, namespace: "doc-rag-prod-data" },
          spec: {
            securityContext: podContext,
            containers: [
              { name: "main", image: "ghcr.io/x@sha256:" + "0".repeat(64), securityContext: containerContext },
            ],
          },
        };
        const outcome = await runResourcePolicy(podSecurityRestricted, { type: "kubernetes:core/v1:Pod", props: pod });
        assert.deepEqual(
          outcome.violations.map((v) => v.message),
          [],
          `${name}: ${podPath} + ${containerPath}`,
        );
      }
    }
  });

  it("admits only the application namespace on service ports and monitoring on metrics ports", () => {
    const { production } = runs;
    const data = "doc-rag-prod-data";
    const ingress = ofType(production, NETWORK_POLICY)
      .map((r) => r.inputs as Values)
      .filter((p) => p["metadata"].namespace === data && p["spec"].ingress);
    const fromNamespace = (ns: string) =>
      ingress
        .filter((p) =>
          p["spec"].ingress[0].from.some(
            (peer: Values) =>
              peer["namespaceSelector"]?.matchLabels["kubernetes.io/metadata.name"] === ns && !peer["podSelector"],
          ),
        )
        .map((p) => [p["metadata"].name, p["spec"].ingress[0].ports.map((port: Values) => port["port"])]);
    assert.deepEqual(fromNamespace("doc-rag-prod").sort(), [
      ["postgres-from-application", [5432]],
      ["qdrant-from-application", [6333, 6334]],
      ["valkey-from-application", [6379]],
    ]);
    assert.deepEqual(fromNamespace("doc-rag-prod-monitoring").sort(), [
      ["cnpg-operator-metrics-from-monitoring", [8080]],
      ["postgres-metrics-from-monitoring", [9187]],
      ["qdrant-metrics-from-monitoring", [6333]],
      ["valkey-metrics-from-monitoring", [9121]],
    ]);
    // Every other ingress comes from the data services' own pods, or from the API server to a webhook.
    for (const p of ingress) {
      for (const peer of p["spec"].ingress[0].from as Values[]) {
        const ns = peer["namespaceSelector"]?.matchLabels["kubernetes.io/metadata.name"];
        const ok =
          ns === "doc-rag-prod" ||
          ns === "doc-rag-prod-monitoring" ||
          (ns === data && peer["podSelector"]) ||
          (peer["ipBlock"] && p["metadata"].name === "cnpg-webhook-from-kubernetes-api");
        assert.ok(ok, `${p["metadata"].name}: unexpected peer ${JSON.stringify(peer)}`);
      }
    }
  });

  it("lets the database reach the object store only where backups are on", () => {
    const names = (run: StackRun) => ofType(run, NETWORK_POLICY).map((r) => (r.inputs["metadata"] as Values)["name"]);
    assert.ok(names(runs.production).includes("postgres-to-object-store"));
    assert.ok(!names(runs.dev).includes("postgres-to-object-store"));
  });

  it("staging and production: protect and retain everything that holds data; dev: nothing", () => {
    const holdsData = (run: StackRun) =>
      run.resources.filter(
        (r) =>
          (r.type === HELM &&
            ["postgres-operator", "postgres-cluster", "valkey-release", "qdrant-release"].includes(r.name)) ||
          r.type === "random:index/randomPassword:RandomPassword" ||
          r.type === "vault:index/mount:Mount" ||
          r.type === "vault:kv/secretV2:SecretV2",
      );
    for (const run of [runs.staging, runs.production]) {
      const found = holdsData(run);
      assert.equal(found.length, 16, run.stack);
      for (const r of found) assert.ok(r.options.protect && r.options.retainOnDelete, `${run.stack}: ${r.name}`);
    }
    const dev = holdsData(runs.dev);
    assert.equal(dev.length, 9);
    for (const r of dev) assert.ok(!r.options.protect && !r.options.retainOnDelete, `dev: ${r.name}`);
  });

  it("exports where each service is reached, and nothing else", () => {
    assert.deepEqual(runs.production.outputs["endpoints"], {
      postgres: { host: "doc-rag-postgres-rw.doc-rag-prod-data.svc.cluster.local", port: 5432, database: "docrag" },
      postgresReadOnly: { host: "doc-rag-postgres-ro.doc-rag-prod-data.svc.cluster.local", port: 5432 },
      valkey: { host: "doc-rag-valkey.doc-rag-prod-data.svc.cluster.local", port: 6379 },
      qdrant: { host: "doc-rag-qdrant.doc-rag-prod-data.svc.cluster.local", port: 6333, grpcPort: 6334 },
    });
  });
});

describe("pinned charts", () => {
  it("are installed at exactly the versions components/charts.ts pins, and docs/charts.md lists them", () => {
    const readme = fs.readFileSync(path.join(PROJECT_ROOT, "docs", "charts.md"), "utf8");
    const installed = new Set(
      ofType(runs.production, HELM).map((r) => `${String(r.inputs["chart"])}@${String(r.inputs["version"])}`),
    );
    for (const chart of Object.values(CHARTS) as Chart[]) {
      assert.ok(installed.has(`${chart.chart}@${chart.version}`), `${chart.chart} is installed in production`);
      const repo = chart.repo ?? "OCI registry";
      // One table row per chart: name, version, repository (Prettier pads the cells).
      assert.match(
        readme,
        new RegExp(`^\\| \`${chart.chart}\` +\\| ${chart.version.replace(/\./g, "\\.")} +\\| <?${repo}>? +\\|$`, "m"),
        `docs/charts.md lists ${chart.chart} ${chart.version}`,
      );
    }
  });
});
