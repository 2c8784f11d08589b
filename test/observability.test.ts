import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { CHARTS } from "../components/charts";
import { renderRules, type RenderedRule } from "../components/observability/alerts";
import {
  find,
  isSecret,
  ofType,
  runStack,
  unwrapSecrets,
  type RecordedResource,
  type StackRun,
  type Values,
} from "./harness";
import { captureConsole } from "./harness/console";
import { runTool, runToolOn, writeFiles } from "./harness/tools";
import { CHART_DATA, chartDataDir, chartDefaults, mergedValues } from "../lib/chartData";
import { falcoDefinitions, falcoReferences, readFalcoRules } from "./harness/falco";

const HELM = "kubernetes:helm.sh/v3:Release";
const RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule";
const SERVICE_MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor";
const PAGING_URL = "https://events.pager.example.org/hooks/doc-rag";
const CHAT_URL = "https://hooks.slack.example.org/services/T0/B0/doc-rag";

type Groups = { name: string; rules: RenderedRule[] }[];

let production: StackRun;
let groups: Groups;
before(async () => {
  production = await runStack("production", {
    secretOverrides: [`doc-rag:alertPagingUrl=${PAGING_URL}`, `doc-rag:alertChatUrl=${CHAT_URL}`],
  });
  assert.equal(production.error, undefined, production.error?.message);
  groups = (find(production, RULE, "observability-alert-rules").inputs["spec"] as { groups: Groups }).groups;
});

const rulesNamed = (alert: string) => groups.flatMap((g) => g.rules).filter((r) => r.alert === alert);

describe("observability: alert rules", () => {
  it("keeps the original document's groups, thresholds, durations and labels, and adds the platform's", () => {
    const summary = groups.map((g) => [g.name, g.rules.map((r) => `${r.alert} ${r.for} ${r.labels.severity}`)]);
    assert.deepEqual(summary, [
      ["doc-rag.api", ["APIHighErrorRate 5m critical", "APIHighLatency 10m warning", "APILowThroughput 15m warning"]],
      [
        "doc-rag.infrastructure",
        ["HighCPUUsage 10m warning", "HighMemoryUsage 5m critical", "DiskSpaceLow 5m critical"],
      ],
      ["doc-rag.business", ["DocumentProcessingBacklog 30m warning", "LowQueryAccuracy 1h critical"]],
      [
        "doc-rag.platform",
        [
          "DataServiceDown 2m critical",
          "PostgresUnavailable 2m critical",
          "ExternalSecretSyncFailed 15m critical",
          "CertificateExpiry 1h warning",
          "CertificateExpiry 10m critical",
        ],
      ],
    ]);
    const [errorRate] = rulesNamed("APIHighErrorRate");
    assert.deepEqual(errorRate!.labels, { severity: "critical", service: "api", team: "platform" });
    assert.match(errorRate!.expr, /> 0\.05$/);
    assert.match(rulesNamed("APIHighLatency")[0]!.expr, /histogram_quantile\(0\.95, .*\) > 0\.5$/);
    assert.match(rulesNamed("HighCPUUsage")[0]!.expr, /node_cpu_seconds_total.* > 80$/);
    assert.match(rulesNamed("DiskSpaceLow")[0]!.expr, /node_filesystem_avail_bytes.* < 15$/);
    assert.deepEqual(rulesNamed("LowQueryAccuracy")[0]!.labels, { severity: "critical", business_impact: "high" });
    // The original document's thresholds, each where its expression compares.
    const thresholds = Object.fromEntries(
      groups.flatMap((g) => g.rules).map((r) => [r.alert, /([<>]) ([\d.]+)$/.exec(r.expr)?.slice(1).join(" ")]),
    );
    assert.deepEqual(
      [
        "APIHighErrorRate",
        "APIHighLatency",
        "APILowThroughput",
        "HighCPUUsage",
        "HighMemoryUsage",
        "DiskSpaceLow",
        "DocumentProcessingBacklog",
        "LowQueryAccuracy",
      ].map((a) => thresholds[a]),
      ["> 0.05", "> 0.5", "< 10", "> 80", "> 85", "< 15", "> 1000", "< 0.8"],
    );
  });

  it("links every alert to its runbook under the configured base, as the original document does", async () => {
    assert.equal(
      rulesNamed("APIHighErrorRate")[0]!.annotations.runbook_url,
      "https://wiki.doc-rag.io/runbooks/api-high-error-rate",
    );
    for (const rule of groups.flatMap((g) => g.rules))
      assert.match(rule.annotations.runbook_url, /^https:\/\/wiki\.doc-rag\.io\/runbooks\/[a-z0-9-]+$/, rule.alert);
    const run = await runStack("staging", {
      overrides: ["doc-rag:observability.runbookBaseUrl=https://runbooks.example.org/doc-rag/"],
    });
    const rules = (find(run, RULE, "observability-alert-rules").inputs["spec"] as { groups: Groups }).groups;
    assert.equal(rules[1]!.rules[0]!.annotations.runbook_url, "https://runbooks.example.org/doc-rag/high-cpu-usage");
  });

  it("prints a runbook base URL with Go-template syntax literally, neither breaking the rules nor running it (promtool)", () => {
    const hostile = "https://wiki.example.org/{{ .Broken";
    const probe = renderRules(
      [
        {
          name: "probe",
          rules: [
            {
              alert: "Probe",
              expr: "up == 0",
              for: "0m",
              labels: { severity: "critical" },
              annotations: { summary: "s", description: "d" },
            },
          ],
        },
      ],
      hostile,
    );
    const tests = {
      rule_files: ["rules.yaml"],
      evaluation_interval: "1m",
      tests: [
        {
          interval: "1m",
          input_series: [{ series: 'up{job="x"}', values: "0x5" }],
          alert_rule_test: [
            {
              eval_time: "2m",
              alertname: "Probe",
              exp_alerts: [
                {
                  exp_labels: { severity: "critical", job: "x" },
                  exp_annotations: { summary: "s", description: "d", runbook_url: `${hostile}/probe` },
                },
              ],
            },
          ],
        },
      ],
    };
    const result = runToolOn("promtool", { "rules.yaml": probe, "tests.yaml": tests }, ["test", "rules", "tests.yaml"]);
    assert.equal(result.status, 0, result.output);
  });

  it("passes promtool check rules", () => {
    const result = runToolOn("promtool", { "rules.yaml": { groups } }, ["check", "rules", "rules.yaml"]);
    assert.equal(result.status, 0, result.output);
    assert.match(result.output, /SUCCESS: 13 rules found/);
  });

  /** One alert's proof: it fires on `fire` once its `for` has passed, not before, and never on `quiet`. */
  interface AlertCase {
    alert: string;
    severity?: "critical" | "warning";
    fire: Record<string, string>;
    /** When the alert must be firing, and (one interval earlier than `for` allows) still silent. */
    firingAt: string;
    silentAt: string;
    /** The alert's labels beyond the rule's. */
    labels: Record<string, string>;
    /** What `{{ $value | humanize… }}` renders to. */
    value?: string;
    quiet: Record<string, string>;
  }

  const app = 'namespace="doc-rag-prod"';
  const node = 'instance="node-1"';
  const CASES: AlertCase[] = [
    {
      alert: "APIHighErrorRate",
      fire: { [`http_requests_total{job="api",${app},status="500"}`]: "0+60x30" },
      firingAt: "10m",
      silentAt: "5m",
      labels: { namespace: "doc-rag-prod" },
      value: "1",
      quiet: { [`http_requests_total{job="api",${app},status="500"}`]: "0+1x30" },
    },
    {
      alert: "APIHighLatency",
      fire: {
        [`http_request_duration_seconds_bucket{job="api",${app},le="0.5"}`]: "0+0x30",
        [`http_request_duration_seconds_bucket{job="api",${app},le="2"}`]: "0+60x30",
        [`http_request_duration_seconds_bucket{job="api",${app},le="+Inf"}`]: "0+60x30",
      },
      firingAt: "15m",
      silentAt: "10m",
      labels: { namespace: "doc-rag-prod" },
      value: "1.925",
      quiet: {
        [`http_request_duration_seconds_bucket{job="api",${app},le="0.1"}`]: "0+60x30",
        [`http_request_duration_seconds_bucket{job="api",${app},le="+Inf"}`]: "0+60x30",
      },
    },
    {
      alert: "APILowThroughput",
      fire: { [`http_requests_total{job="api",${app},status="200"}`]: "0+60x40" },
      firingAt: "20m",
      silentAt: "15m",
      labels: { namespace: "doc-rag-prod" },
      value: "1",
      quiet: { [`http_requests_total{job="api",${app},status="200"}`]: "0+1200x40" },
    },
    {
      alert: "HighCPUUsage",
      fire: { [`node_cpu_seconds_total{cpu="0",${node},mode="idle"}`]: "0+6x30" },
      firingAt: "15m",
      silentAt: "10m",
      labels: { instance: "node-1" },
      value: "90",
      quiet: { [`node_cpu_seconds_total{cpu="0",${node},mode="idle"}`]: "0+54x30" },
    },
    {
      alert: "HighMemoryUsage",
      fire: { [`node_memory_MemAvailable_bytes{${node}}`]: "10x20", [`node_memory_MemTotal_bytes{${node}}`]: "100x20" },
      firingAt: "6m",
      silentAt: "4m",
      labels: { instance: "node-1" },
      value: "90",
      quiet: {
        [`node_memory_MemAvailable_bytes{${node}}`]: "50x20",
        [`node_memory_MemTotal_bytes{${node}}`]: "100x20",
      },
    },
    {
      alert: "DiskSpaceLow",
      fire: {
        [`node_filesystem_avail_bytes{${node},mountpoint="/",fstype="ext4"}`]: "10x20",
        [`node_filesystem_size_bytes{${node},mountpoint="/",fstype="ext4"}`]: "100x20",
      },
      firingAt: "6m",
      silentAt: "4m",
      labels: { instance: "node-1", mountpoint: "/", fstype: "ext4" },
      value: "10",
      // A full tmpfs is not a disk.
      quiet: {
        [`node_filesystem_avail_bytes{${node},mountpoint="/",fstype="ext4"}`]: "50x20",
        [`node_filesystem_size_bytes{${node},mountpoint="/",fstype="ext4"}`]: "100x20",
        [`node_filesystem_avail_bytes{${node},mountpoint="/run",fstype="tmpfs"}`]: "1x20",
        [`node_filesystem_size_bytes{${node},mountpoint="/run",fstype="tmpfs"}`]: "100x20",
      },
    },
    {
      alert: "DocumentProcessingBacklog",
      fire: { [`doc_rag_queue_length{${app},pod="chunker-0",queue="doc-rag-processing"}`]: "1500x50" },
      firingAt: "35m",
      silentAt: "29m",
      labels: { namespace: "doc-rag-prod" },
      value: "1.5k",
      quiet: { [`doc_rag_queue_length{${app},pod="chunker-0",queue="doc-rag-processing"}`]: "500x50" },
    },
    {
      alert: "LowQueryAccuracy",
      fire: { [`doc_rag_query_accuracy{${app},pod="exporter-0"}`]: "0.7x80" },
      firingAt: "65m",
      silentAt: "59m",
      labels: { namespace: "doc-rag-prod" },
      value: "70%",
      quiet: { [`doc_rag_query_accuracy{${app},pod="exporter-0"}`]: "0.9x80" },
    },
    {
      alert: "DataServiceDown",
      fire: { 'up{namespace="doc-rag-prod-data",job="doc-rag-valkey-metrics",instance="10.0.0.7:9121"}': "0x10" },
      firingAt: "3m",
      silentAt: "1m",
      labels: { namespace: "doc-rag-prod-data", job: "doc-rag-valkey-metrics", instance: "10.0.0.7:9121" },
      // Only the data namespace's targets page here.
      quiet: {
        'up{namespace="doc-rag-prod-data",job="doc-rag-valkey-metrics",instance="10.0.0.7:9121"}': "1x10",
        'up{namespace="doc-rag-prod",job="api",instance="10.0.0.8:9090"}': "0x10",
      },
    },
    {
      alert: "PostgresUnavailable",
      fire: { 'cnpg_collector_up{cluster="doc-rag-postgres",pod="doc-rag-postgres-1"}': "0x10" },
      firingAt: "3m",
      silentAt: "1m",
      labels: { cluster: "doc-rag-postgres", pod: "doc-rag-postgres-1" },
      quiet: { 'cnpg_collector_up{cluster="doc-rag-postgres",pod="doc-rag-postgres-1"}': "1x10" },
    },
    {
      alert: "ExternalSecretSyncFailed",
      fire: {
        [`externalsecret_status_condition{condition="Ready",name="doc-rag-secrets",${app},status="False"}`]: "1x30",
      },
      firingAt: "16m",
      silentAt: "14m",
      labels: { condition: "Ready", name: "doc-rag-secrets", namespace: "doc-rag-prod", status: "False" },
      quiet: {
        [`externalsecret_status_condition{condition="Ready",name="doc-rag-secrets",${app},status="False"}`]: "0x30",
      },
    },
    {
      alert: "CertificateExpiry",
      severity: "warning",
      // Ten days after the epoch: at 2h, 9.917 days remain.
      fire: { 'certmanager_certificate_expiration_timestamp_seconds{name="api-tls",namespace="gw"}': "864000x180" },
      firingAt: "2h",
      silentAt: "59m",
      labels: { name: "api-tls", namespace: "gw" },
      value: "9.917",
      quiet: { 'certmanager_certificate_expiration_timestamp_seconds{name="api-tls",namespace="gw"}': "5184000x180" },
    },
    {
      alert: "CertificateExpiry",
      severity: "critical",
      // Two days: only the critical rule's shorter `for` has passed at 20m.
      fire: { 'certmanager_certificate_expiration_timestamp_seconds{name="api-tls",namespace="gw"}': "172800x60" },
      firingAt: "20m",
      silentAt: "9m",
      labels: { name: "api-tls", namespace: "gw" },
      value: "1.986",
      quiet: { 'certmanager_certificate_expiration_timestamp_seconds{name="api-tls",namespace="gw"}': "5184000x60" },
    },
  ];

  /** The alert's annotations as Prometheus renders them for this case. */
  function expectedAnnotations(rule: RenderedRule, c: AlertCase): Record<string, string> {
    const render = (template: string) =>
      template
        .replace(/\{\{ \$value \| humanize\w* \}\}/g, c.value ?? "")
        .replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, label: string) => c.labels[label] ?? "");
    return Object.fromEntries(Object.entries(rule.annotations).map(([k, v]) => [k, render(v)]));
  }

  const series = (s: Record<string, string>) => Object.entries(s).map(([name, values]) => ({ series: name, values }));

  function unitTests(cases: AlertCase[]) {
    return {
      rule_files: ["rules.yaml"],
      evaluation_interval: "1m",
      tests: cases.flatMap((c) => {
        const rule = rulesNamed(c.alert).find((r) => !c.severity || r.labels.severity === c.severity)!;
        const expected = { exp_labels: { ...rule.labels, ...c.labels }, exp_annotations: expectedAnnotations(rule, c) };
        return [
          {
            name: `${c.alert} ${c.severity ?? ""} fires after its for, not before`,
            interval: "1m",
            input_series: series(c.fire),
            alert_rule_test: [
              { eval_time: c.silentAt, alertname: c.alert, exp_alerts: [] },
              { eval_time: c.firingAt, alertname: c.alert, exp_alerts: [expected] },
            ],
          },
          {
            name: `${c.alert} ${c.severity ?? ""} stays silent`,
            interval: "1m",
            input_series: series(c.quiet),
            alert_rule_test: [{ eval_time: c.firingAt, alertname: c.alert, exp_alerts: [] }],
          },
        ];
      }),
    };
  }

  it("has a case for every alert rule", () => {
    const covered = new Set(CASES.map((c) => `${c.alert}/${c.severity ?? rulesNamed(c.alert)[0]!.labels.severity}`));
    const rules = groups.flatMap((g) => g.rules).map((r) => `${r.alert}/${r.labels.severity}`);
    assert.deepEqual([...covered].sort(), rules.sort());
  });

  it("fires each alert on series that should trigger it, after its for duration, and on nothing else (promtool test rules)", () => {
    const result = runToolOn("promtool", { "rules.yaml": { groups }, "tests.yaml": unitTests(CASES) }, [
      "test",
      "rules",
      "tests.yaml",
    ]);
    assert.equal(result.status, 0, result.output);
    assert.match(result.output, /SUCCESS/);
  });

  it("would notice an alert that stays silent where it should fire", () => {
    const broken = { ...CASES[0]!, fire: CASES[0]!.quiet };
    const result = runToolOn("promtool", { "rules.yaml": { groups }, "tests.yaml": unitTests([broken]) }, [
      "test",
      "rules",
      "tests.yaml",
    ]);
    assert.notEqual(result.status, 0);
    assert.match(result.output, /APIHighErrorRate/);
  });
});

describe("observability: Alertmanager routing", () => {
  const configOf = (run: StackRun): { text: string; resource: RecordedResource } => {
    const resource = find(run, "kubernetes:core/v1:Secret", "observability-stack-alertmanager-config");
    const stringData = resource.inputs["stringData"];
    return { text: unwrapSecrets<Record<string, string>>(stringData)["alertmanager.yaml"]!, resource };
  };

  it("keeps the receivers' URLs secret", () => {
    const { text, resource } = configOf(production);
    assert.ok(
      isSecret(resource.inputs["stringData"]) ||
        isSecret((resource.inputs["stringData"] as Values)["alertmanager.yaml"]),
    );
    assert.ok(text.includes(PAGING_URL) && text.includes(CHAT_URL));
    assert.ok(!JSON.stringify(find(production, HELM, "observability-stack-release").inputs).includes(PAGING_URL));
  });

  it("passes amtool check-config, and routes critical to paging, warning to chat, heartbeats nowhere", () => {
    const files = writeFiles({ "alertmanager.yaml": configOf(production).text });
    try {
      const check = runTool("amtool", ["check-config", "alertmanager.yaml"], files.dir);
      assert.equal(check.status, 0, check.output);
      assert.match(check.output, /SUCCESS/);
      const route = (...labels: string[]) => {
        const r = runTool(
          "amtool",
          ["config", "routes", "test", "--config.file=alertmanager.yaml", ...labels],
          files.dir,
        );
        assert.equal(r.status, 0, r.output);
        return r.stdout.trim();
      };
      assert.equal(route("alertname=APIHighErrorRate", "severity=critical", "namespace=doc-rag-prod"), "paging");
      assert.equal(route("alertname=APIHighLatency", "severity=warning", "namespace=doc-rag-prod"), "chat");
      assert.equal(route("alertname=Watchdog", "severity=none"), "null");
      assert.equal(route("alertname=SomethingNew", "severity=info"), "chat");
    } finally {
      files.cleanup();
    }
  });

  it("lets a critical silence the matching warning, and groups by alert and namespace", () => {
    const config = parse(configOf(production).text) as Values;
    assert.deepEqual(config["inhibit_rules"], [
      {
        source_matchers: ['severity = "critical"'],
        target_matchers: ['severity = "warning"'],
        equal: ["alertname", "namespace"],
      },
    ]);
    assert.deepEqual(config["route"].group_by, ["alertname", "namespace"]);
    assert.deepEqual(
      config["receivers"].map((r: Values) => [r["name"], Object.keys(r).filter((k) => k !== "name")]),
      [
        ["null", []],
        ["paging", ["webhook_configs"]],
        ["chat", ["slack_configs"]],
      ],
    );
  });

  it("without URLs (dev), keeps the receivers but sends nothing, and still passes amtool", async () => {
    const dev = await runStack("dev");
    const text = configOf(dev).text;
    const files = writeFiles({ "alertmanager.yaml": text });
    try {
      assert.equal(runTool("amtool", ["check-config", "alertmanager.yaml"], files.dir).status, 0);
    } finally {
      files.cleanup();
    }
    assert.deepEqual(
      (parse(text) as Values)["receivers"].map((r: Values) => Object.keys(r)),
      [["name"], ["name"], ["name"]],
    );
  });
});

describe("observability: the monitoring stack", () => {
  it("installs kube-prometheus-stack pinned, without CRDs, after the CRD release and Grafana's login", () => {
    const release = find(production, HELM, "observability-stack-release");
    assert.deepEqual(
      [release.inputs["chart"], release.inputs["version"], release.inputs["namespace"]],
      ["kube-prometheus-stack", "88.4.0", "doc-rag-prod-monitoring"],
    );
    const values = release.inputs["values"] as Values;
    assert.deepEqual(values["crds"], { enabled: false });
    for (const dependency of [
      find(production, HELM, "addons-prometheus-operator-crds"),
      find(production, "kubernetes:external-secrets.io/v1:ExternalSecret", "secrets-grafana"),
    ])
      assert.ok(release.options.dependsOn.includes(dependency.urn), dependency.name);
    assert.ok(release.options.protect && release.options.retainOnDelete);
  });

  it("scrapes and evaluates every 15s, labels each stack's series, and keeps them per stack", async () => {
    const spec = (run: StackRun) =>
      (find(run, HELM, "observability-stack-release").inputs["values"] as Values)["prometheus"].prometheusSpec;
    const prod = spec(production);
    assert.equal(prod.scrapeInterval, "15s");
    assert.equal(prod.evaluationInterval, "15s");
    assert.deepEqual(prod.externalLabels, { cluster: "doc-rag-prod", environment: "production" });
    assert.equal(prod.retention, "30d");
    assert.equal(prod.replicas, 2);
    assert.deepEqual(prod.storageSpec.volumeClaimTemplate.spec.resources, { requests: { storage: "200Gi" } });
    assert.equal(prod.storageSpec.volumeClaimTemplate.spec.storageClassName, "fast-ssd");
    assert.equal(prod.serviceMonitorSelectorNilUsesHelmValues, false);
    assert.equal(prod.ruleSelectorNilUsesHelmValues, false);
    const dev = spec(await runStack("dev"));
    assert.deepEqual(dev.externalLabels, { cluster: "doc-rag-dev", environment: "dev" });
    assert.equal(dev.retention, "7d");
  });

  it("gives Grafana a generated admin login and loads dashboards from labelled ConfigMaps", () => {
    const grafana = (find(production, HELM, "observability-stack-release").inputs["values"] as Values)["grafana"];
    assert.deepEqual(grafana.admin, {
      existingSecret: "grafana-admin",
      userKey: "admin-user",
      passwordKey: "admin-password",
    });
    assert.equal(grafana.adminPassword, undefined);
    assert.deepEqual(grafana.sidecar.dashboards, {
      enabled: true,
      label: "grafana_dashboard",
      labelValue: "1",
      searchNamespace: "ALL",
    });
  });

  it("runs the node agents (node-exporter, Fluent Bit, Falco) in the node-agents namespace, and nothing else", () => {
    const values = find(production, HELM, "observability-stack-release").inputs["values"] as Values;
    assert.equal(values["prometheus-node-exporter"].namespaceOverride, "doc-rag-prod-node-agents");
    const inAgents = production.resources.filter(
      (r) =>
        (r.inputs["metadata"] as { namespace?: string } | undefined)?.namespace === "doc-rag-prod-node-agents" ||
        (r.type === HELM && r.inputs["namespace"] === "doc-rag-prod-node-agents"),
    );
    assert.deepEqual(inAgents.map((r) => r.name).sort(), [
      "nodeAgents-allow-dns",
      "nodeAgents-default-deny",
      "nodeAgents-limits",
      "nodeAgents-quota",
      "observability-agents-falco-to-artifacts",
      "observability-agents-fluent-bit-to-kubernetes-api",
      "observability-agents-fluent-bit-to-opensearch",
      "observability-agents-metrics-from-prometheus",
      "observability-falco",
      "observability-fluent-bit",
    ]);
  });

  it("ships no logs in dev, which has no OpenSearch on a laptop, and requires a log sink elsewhere", async () => {
    const dev = await runStack("dev");
    assert.deepEqual(
      dev.resources.filter((r) => /fluent-bit/.test(r.name)).map((r) => r.name),
      [],
    );
    assert.ok(find(dev, HELM, "observability-falco"));
    const staging = await runStack("staging", { overrides: ["doc-rag:observability={}"] });
    assert.match(
      staging.error?.message ?? "",
      /doc-rag:observability\.logs: is required; must be set in staging \(the OpenSearch that keeps its logs\)/,
    );
    assert.equal(staging.resources.filter((r) => r.custom).length, 0, "nothing is registered");
  });

  it("scrapes the six services on their metrics port, the api every 10s, and nothing no stack deploys", () => {
    const monitors = Object.fromEntries(
      ofType(production, SERVICE_MONITOR).map((m) => {
        const spec = m.inputs["spec"] as Values;
        return [
          spec["selector"].matchLabels["app.kubernetes.io/name"],
          [spec["endpoints"][0].port, spec["endpoints"][0].interval],
        ];
      }),
    );
    assert.deepEqual(monitors, {
      api: ["metrics", "10s"],
      chunker: ["metrics", "15s"],
      embedder: ["metrics", "15s"],
      retriever: ["metrics", "15s"],
      "query-processor": ["metrics", "15s"],
      "response-generator": ["metrics", "15s"],
    });
    for (const m of ofType(production, SERVICE_MONITOR))
      assert.deepEqual((m.inputs["spec"] as Values)["namespaceSelector"], { matchNames: ["doc-rag-prod"] });
    const scrape = ofType(production, "kubernetes:networking.k8s.io/v1:NetworkPolicy").find(
      (p) =>
        (p.inputs["metadata"] as Values)["name"] === "metrics-from-prometheus" &&
        (p.inputs["metadata"] as Values)["namespace"] === "doc-rag-prod",
    )!;
    assert.deepEqual(
      (scrape.inputs["spec"] as Values)["ingress"][0].ports.map((p: Values) => p["port"]),
      [9090],
    );
  });

  it("ships the dashboards as Grafana JSON models whose every query is valid PromQL", () => {
    const maps = ofType(production, "kubernetes:core/v1:ConfigMap").filter(
      (c) => (c.inputs["metadata"] as Values)["labels"].grafana_dashboard === "1",
    );
    const models = maps.map((c) => JSON.parse(Object.values(c.inputs["data"] as Record<string, string>)[0]!) as Values);
    assert.deepEqual(models.map((m) => m["title"]).sort(), [
      "Doc-RAG API",
      "Doc-RAG data services",
      "Doc-RAG document pipeline",
    ]);
    const exprs = models.flatMap((m) => m["panels"].flatMap((p: Values) => p["targets"].map((t: Values) => t["expr"])));
    assert.ok(exprs.length >= 12);
    // promtool parses each query as a recording rule's expression.
    const rules = {
      groups: [{ name: "dashboards", rules: exprs.map((expr, i) => ({ record: `dashboard:query_${i}`, expr })) }],
    };
    const result = runToolOn("promtool", { "dashboards.yaml": rules }, ["check", "rules", "dashboards.yaml"]);
    assert.equal(result.status, 0, result.output);
  });
});

/** Every receiver, processor, exporter and extension a pipeline names is defined. */
function undefinedComponents(config: Values): string[] {
  const service = config["service"] as Values;
  const missing = (kind: string, names: string[]) =>
    names.filter((n) => !(n in ((config[kind] as Values | undefined) ?? {}))).map((n) => `${kind}.${n}`);
  return [
    ...missing("extensions", service["extensions"] ?? []),
    ...Object.values(service["pipelines"] as Record<string, Values>).flatMap((p) => [
      ...missing("receivers", p["receivers"]),
      ...missing("processors", p["processors"] ?? []),
      ...missing("exporters", p["exporters"]),
    ]),
  ];
}

/** Fluent Bit's classic configuration: `[SECTION]` headers and indented `Key value` lines. */
function parseFluentBit(text: string): { name: string; entries: Record<string, string[]> }[] {
  const sections: { name: string; entries: Record<string, string[]> }[] = [];
  for (const line of text.split("\n")) {
    const header = /^\[(\w+)\]$/.exec(line.trim());
    if (header) sections.push({ name: header[1]!, entries: {} });
    else if (line.trim()) {
      const [, key, value] = /^\s+(\S+)\s+(.*)$/.exec(line) ?? [];
      assert.ok(key && value !== undefined && sections.length, `unparsable line ${JSON.stringify(line)}`);
      (sections.at(-1)!.entries[key] ??= []).push(value);
    }
  }
  return sections;
}

describe("observability: tracing", () => {
  const collectors = (run: StackRun) =>
    Object.fromEntries(
      ofType(run, "kubernetes:opentelemetry.io/v1beta1:OpenTelemetryCollector").map((c) => [
        (c.inputs["metadata"] as Values)["name"],
        c,
      ]),
    ) as Record<string, RecordedResource>;

  it("runs the original document's pipeline: OTLP gRPC 4317 and HTTP 4318, memory limiter 512MiB, batch 1s/50, to Jaeger v2", () => {
    const collector = collectors(production)["doc-rag"]!;
    const spec = collector.inputs["spec"] as Values;
    const config = spec["config"] as Values;
    assert.deepEqual(config["receivers"], {
      otlp: { protocols: { grpc: { endpoint: "0.0.0.0:4317" }, http: { endpoint: "0.0.0.0:4318" } } },
    });
    assert.deepEqual(config["processors"], {
      memory_limiter: { check_interval: "1s", limit_mib: 512 },
      batch: { timeout: "1s", send_batch_size: 50 },
    });
    assert.deepEqual(config["exporters"], {
      "otlp/jaeger": {
        endpoint: "jaeger-collector.doc-rag-prod-monitoring.svc.cluster.local:4317",
        tls: { insecure: true },
      },
    });
    assert.deepEqual(config["service"].pipelines.traces, {
      receivers: ["otlp"],
      processors: ["memory_limiter", "batch"],
      exporters: ["otlp/jaeger"],
    });
    assert.deepEqual(undefinedComponents(config), []);
    assert.equal(spec["mode"], "deployment");
    assert.ok(collector.options.dependsOn.includes(find(production, HELM, "observability-tracing-operator").urn));
    assert.equal(
      production.outputs["tracingEndpoint"],
      "doc-rag-collector.doc-rag-prod-monitoring.svc.cluster.local:4317",
    );
  });

  it("runs Jaeger v2 keeping spans on a volume outside dev, in memory in dev", async () => {
    const jaeger = collectors(production)["jaeger"]!.inputs["spec"] as Values;
    assert.match(jaeger["image"], /^jaegertracing\/jaeger:2\.\d+\.\d+$/);
    const storage = jaeger["config"].extensions.jaeger_storage.backends.primary;
    assert.deepEqual(Object.keys(storage), ["badger"]);
    assert.equal(storage.badger.ephemeral, false);
    assert.equal(storage.badger.ttl.spans, "168h");
    assert.deepEqual(jaeger["volumeClaimTemplates"][0].spec.resources, { requests: { storage: "20Gi" } });
    assert.deepEqual(undefinedComponents(jaeger["config"]), []);
    const dev = collectors(await runStack("dev"))["jaeger"]!.inputs["spec"] as Values;
    assert.deepEqual(Object.keys(dev["config"].extensions.jaeger_storage.backends.primary), ["memory"]);
    assert.equal(dev["volumeClaimTemplates"], undefined);
  });

  it("would notice a pipeline that names an undefined component", () => {
    assert.deepEqual(
      undefinedComponents({
        receivers: { otlp: {} },
        exporters: {},
        service: { pipelines: { traces: { receivers: ["otlp", "jaeger"], exporters: ["otlp/jaeger"] } } },
      }),
      ["receivers.jaeger", "exporters.otlp/jaeger"],
    );
  });
});

describe("observability: logs", () => {
  const fluentBit = (run: StackRun) => {
    const release = find(run, HELM, "observability-fluent-bit");
    const config = (release.inputs["values"] as Values)["config"] as Record<string, string>;
    const sections = ["service", "inputs", "filters", "outputs"].flatMap((k) => parseFluentBit(config[k]!));
    const one = (name: string, plugin?: string) =>
      sections.filter((s) => s.name === name && (!plugin || s.entries["Name"]?.[0] === plugin));
    return { release, sections, one };
  };

  it("tails every container's log on every node and ships it to OpenSearch under the prefix doc-rag", () => {
    const { release, one } = fluentBit(production);
    assert.equal(release.inputs["namespace"], "doc-rag-prod-node-agents");
    assert.equal((release.inputs["values"] as Values)["kind"], "DaemonSet");
    const [tail] = one("INPUT", "tail");
    assert.deepEqual(tail!.entries["Path"], ["/var/log/containers/*.log"]);
    assert.deepEqual(tail!.entries["storage.type"], ["filesystem"]);
    const [output] = one("OUTPUT", "opensearch");
    assert.deepEqual(
      ["Host", "Port", "tls", "Logstash_Format", "Logstash_Prefix"].map((k) => output!.entries[k]?.[0]),
      ["opensearch.doc-rag.io", "443", "On", "On", "doc-rag"],
    );
  });

  it("parses the application's JSON lines, keeping the original (reserve_data)", () => {
    const [parser] = fluentBit(production).one("FILTER", "parser");
    assert.deepEqual(parser!.entries["Match"], ["kube.var.log.containers.*_doc-rag-prod_*"]);
    assert.deepEqual(parser!.entries["Parser"], ["json"]);
    assert.deepEqual(parser!.entries["Reserve_Data"], ["On"]);
  });

  it("buffers on disk and retries without end, backing off at most 30s, flushing every 5s", () => {
    const { one } = fluentBit(production);
    const [service] = one("SERVICE");
    assert.deepEqual(service!.entries["Flush"], ["5"]);
    assert.deepEqual(service!.entries["scheduler.cap"], ["30"]);
    assert.match(service!.entries["storage.path"]![0]!, /^\/var\/fluent-bit\/state\//);
    const [output] = one("OUTPUT", "opensearch");
    assert.deepEqual(output!.entries["Retry_Limit"], ["no_limits"]);
    assert.deepEqual(output!.entries["storage.total_limit_size"], ["5G"]);
  });

  it("routes every filter and output to what the input tags", () => {
    const { sections } = fluentBit(production);
    const tags = sections.filter((s) => s.name === "INPUT").map((s) => s.entries["Tag"]![0]!.replace("*", ""));
    for (const s of sections.filter((s) => s.name === "FILTER" || s.name === "OUTPUT"))
      assert.ok(
        tags.some((t) => s.entries["Match"]![0]!.startsWith(t)),
        `${s.entries["Name"]![0]} matches ${s.entries["Match"]![0]}`,
      );
  });

  it("reads OpenSearch credentials from a Secret when one is configured, never from values", async () => {
    const run = await runStack("staging", {
      overrides: ["doc-rag:observability.logs.credentialsSecret=opensearch-shipper"],
    });
    const { release, one } = fluentBit(run);
    const [output] = one("OUTPUT", "opensearch");
    assert.deepEqual(output!.entries["HTTP_Passwd"], ["${OPENSEARCH_PASSWORD}"]);
    assert.deepEqual((release.inputs["values"] as Values)["env"][1], {
      name: "OPENSEARCH_PASSWORD",
      valueFrom: { secretKeyRef: { name: "opensearch-shipper", key: "password" } },
    });
  });
});

describe("observability: runtime security", () => {
  it("runs Falco with the modern eBPF probe, least privileged, and the original document's two rules", () => {
    const release = find(production, HELM, "observability-falco");
    assert.equal(release.inputs["namespace"], "doc-rag-prod-node-agents");
    const values = release.inputs["values"] as Values;
    assert.deepEqual(values["driver"], { kind: "modern_ebpf", modernEbpf: { leastPrivileged: true } });
    const entries = parse(values["customRules"]["doc-rag-rules.yaml"]) as Values[];
    const rules = entries.filter((e) => "rule" in e);
    assert.deepEqual(
      rules.map((r) => [r["rule"], r["priority"], r["tags"]]),
      [
        ["Unexpected Network Connection from Doc-RAG Container", "WARNING", ["network", "doc-rag"]],
        ["File Access Outside Expected Paths in Doc-RAG", "ERROR", ["filesystem", "doc-rag"]],
      ],
    );
    assert.match(
      rules[0]!["condition"],
      /^doc_rag_inbound_outbound and\ncontainer and\ncontainer\.image contains "doc-rag" and/,
    );
    assert.match(rules[0]!["condition"], /not fd\.sport in \(8080, 9090, 5432, 6379, 6333\)$/);
    assert.match(rules[1]!["condition"], /^open_read and[\s\S]*not fd\.name startswith \/sys\/$/);
    for (const r of rules) {
      assert.deepEqual(Object.keys(r), ["rule", "desc", "condition", "output", "priority", "tags"]);
      assert.match(r["output"], /container=%container\.id/);
    }
  });

  it("lets falcoctl fetch the stable rules and the container plugin Falco starts with, over HTTPS only", async function () {
    const policy = find(
      production,
      "kubernetes:networking.k8s.io/v1:NetworkPolicy",
      "observability-agents-falco-to-artifacts",
    ).inputs["spec"] as Values;
    assert.deepEqual(policy["podSelector"], { matchLabels: { "app.kubernetes.io/name": "falco" } });
    assert.deepEqual(policy["egress"], [
      { to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ port: 443, protocol: "TCP" }] },
    ]);
    const dir = chartDataDir(CHARTS.falco);
    if (!dir) return this.skip();
    // What the chart at the pinned version does with our values: falcoctl installs the rules at start
    // (following them upstream only in dev), and the container plugin comes from its OCI reference.
    const values = find(production, HELM, "observability-falco").inputs["values"] as Values;
    const merged = mergedValues(chartDefaults(dir), values) as Values;
    assert.equal(merged["falcoctl"].artifact.install.enabled, true);
    assert.equal(merged["falcoctl"].artifact.follow.enabled, false);
    const devValues = find(await runStack("dev"), HELM, "observability-falco").inputs["values"] as Values;
    assert.equal((mergedValues(chartDefaults(dir), devValues) as Values)["falcoctl"].artifact.follow.enabled, true);
    assert.ok(merged["falcoctl"].config.artifact.install.refs.some((r: string) => r.startsWith("falco-rules:")));
    assert.equal(merged["collectors"].containerEngine.enabled, true);
    assert.match(
      merged["collectors"].containerEngine.pluginRef,
      /^ghcr\.io\/falcosecurity\/plugins\/plugin\/container:/,
    );
  });

  it("follows Falco's artifacts upstream in staging or production only when the stack says so, and warns", async () => {
    const follow = (run: StackRun) =>
      (find(run, HELM, "observability-falco").inputs["values"] as Values)["falcoctl"].artifact.follow.enabled;
    assert.equal(follow(production), false);
    const chosen = await captureConsole(async () => {
      const run = await runStack("production", { overrides: ["doc-rag:observability.followFalcoArtifacts=true"] });
      assert.equal(follow(run), true);
      return 0;
    });
    assert.match(chosen.stderr + chosen.stdout, /followFalcoArtifacts is true in production: .*without a commit/);
  });

  it("uses only macros and lists that the stable rules of the installed falco-rules or its own file define", function () {
    const stable = path.join(CHART_DATA, "falco", CHARTS.falco.version, "rules", "falco_rules.yaml");
    if (!fs.existsSync(stable)) {
      console.warn(`    (skipped: no Falco stable rules at ${stable})`);
      return this.skip();
    }
    const values = find(production, HELM, "observability-falco").inputs["values"] as Values;
    const own = parse(values["customRules"]["doc-rag-rules.yaml"]) as Record<string, unknown>[];
    const defined = falcoDefinitions([...readFalcoRules(stable), ...own]);
    const undefinedRefs = own.flatMap((entry) => {
      const refs = falcoReferences(String(entry["condition"] ?? ""));
      const name = String(entry["rule"] ?? entry["macro"]);
      return [
        ...refs.macros.filter((m) => !defined.macros.has(m)).map((m) => `${name}: macro ${m}`),
        ...refs.lists.filter((l) => !defined.lists.has(l)).map((l) => `${name}: list ${l}`),
      ];
    });
    assert.deepEqual(undefinedRefs, []);
    // The check sees what Falco would stop on: the original document's macro is not a stable one.
    assert.ok(!defined.macros.has("inbound_outbound"));
    assert.deepEqual(falcoReferences("inbound_outbound and container and not proc.name in (shell_binaries, curl)"), {
      macros: ["inbound_outbound", "container"],
      lists: ["shell_binaries"],
    });
  });
});
