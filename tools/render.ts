/**
 * npm run render -- <stack> [--project cluster|data|app|governance|single] [--charts DIR] [--out DIR] [--json]
 *                          [--config key=value ...]
 *
 * The render gate: runs the plan of the whole environment (every project together: quotas and flows
 * span them; `--project` narrows it to one project's objects), then `helm template`s every Helm release of the stack from the
 * chart cache (`npm run charts:pull`; never downloads) with exactly the recorded values, its
 * namespace, the stack's Kubernetes version and the API versions the platform serves (the CRDs the
 * charts install and the program uses, apiregistration.k8s.io/v1, and their Kind forms). Writes
 * the rendered objects to DIR/rendered/<release>.yaml (DIR defaults to .plan/<stack>) and checks
 * them with the program's own objects (tools/renderChecks.ts): render errors (the chart's values
 * schema included), value keys the chart does not read, Pod Security of every rendered workload at its namespace's enforced level,
 * quota fit per namespace at minimum and at a release's worst moment (components/footprint.ts), Secrets and ConfigMaps that pods need
 * and nothing creates, and (advisory) images not pinned by digest. Exits 1 on a finding that is
 * not advisory, 2 on bad arguments.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { kubernetesDocuments } from "../lib/kubernetesYaml";
import { CHARTS, localChart, type Chart } from "../components/charts";
import { HELM_RELEASE } from "../policies/lib/kubernetes";
import { kubernetesObjects, ofType, PROJECT_ROOT, runPlanned, unwrapSecrets, type StackRun } from "../lib";
import { deadValuePaths } from "../lib/chartData";
import { buildModel, type ModelConfig } from "./flows/model";
import { analyzeFlows, flowFiles, flowFindings, modelConfigFor, type FlowReport } from "./flows/report";
import { defaultChartsDir, helmBinary } from "../lib/helm";
import { checkOut, outDirOf, writeOut } from "./outDir";
import { parseStackArgs } from "./stackArgs";
import type { KubeObject, Placed } from "../lib/placed";
import {
  imageFindings,
  podSecurityFindings,
  quotaFit,
  referenceFindings,
  type Finding,
  type QuotaUsage,
} from "./renderChecks";

const USAGE =
  "usage: npm run render -- <stack> [--project cluster|data|app|governance|single] [--charts DIR] [--out DIR] [--json] [--config key=value ...]";

export interface RenderRequest {
  release: string;
  chart: string;
  namespace: string;
  values: Record<string, unknown>;
  kubeVersion: string;
  apiVersions: string[];
}

/** `helm template` of one release: its objects, or the error Helm printed. */
export function renderRelease(helm: string, request: RenderRequest): { objects: KubeObject[]; error?: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "doc-rag-render-"));
  try {
    const valuesFile = path.join(dir, "values.json");
    fs.writeFileSync(valuesFile, JSON.stringify(request.values));
    const args = [
      "template",
      request.release,
      request.chart,
      "--namespace",
      request.namespace,
      "--kube-version",
      request.kubeVersion,
      "--include-crds",
      "--values",
      valuesFile,
      ...request.apiVersions.flatMap((v) => ["--api-versions", v]),
    ];
    const result = spawnSync(helm, args, { encoding: "utf8", maxBuffer: 256 * 2 ** 20 });
    if (result.status !== 0) return { objects: [], error: (result.stderr || result.error?.message || "").trim() };
    const objects: KubeObject[] = [];
    for (const doc of kubernetesDocuments(result.stdout)) {
      if ("error" in doc) return { objects: [], error: `helm template's document ${doc.index}: ${doc.error}` };
      if ((doc.value as KubeObject | null)?.kind) objects.push(doc.value as KubeObject);
    }
    return { objects };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** `group/version` and `group/version/Kind` for every version a CRD serves. */
function servedApis(crd: KubeObject): string[] {
  const s = crd["spec"] as { group: string; names: { kind: string }; versions: { name: string; served?: boolean }[] };
  return s.versions
    .filter((v) => v.served !== false)
    .flatMap((v) => [`${s.group}/${v.name}`, `${s.group}/${v.name}/${s.names.kind}`]);
}

/**
 * Secrets a chart's certificate job writes at install, by the job's command (source: Envoy Gateway's
 * certgen, https://gateway.envoyproxy.io/docs/install/install-helm/ — "certgen" creates the control
 * plane's and the proxies' TLS Secrets). Jobs of kube-webhook-certgen name theirs with --secret-name.
 */
const CERTGEN_SECRETS: Record<string, string[]> = {
  "envoy-gateway certgen": ["envoy-gateway", "envoy", "envoy-rate-limit", "envoy-oidc-hmac"],
};

/** Secrets that appear at run time, made by a controller or a job from an object the plan or a chart holds. */
function runtimeSecrets(placed: Placed[]): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  const add = (ns: string, name: string) => found.set(ns, (found.get(ns) ?? new Set()).add(name));
  for (const { object, namespace } of placed) {
    const s = (object["spec"] ?? {}) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    if (object.kind === "Job") {
      for (const c of (s["template"]?.spec?.containers ?? []) as { args?: string[]; command?: string[] }[]) {
        for (const arg of c.args ?? []) if (arg.startsWith("--secret-name=")) add(namespace, arg.slice(14));
        for (const name of CERTGEN_SECRETS[(c.command ?? []).join(" ")] ?? []) add(namespace, name);
      }
    }
    if (object.kind === "ExternalSecret") add(namespace, s["target"]?.name ?? object.metadata.name);
    if (object.kind === "Certificate") add(namespace, s["secretName"]);
    // The Prometheus Operator's generated Secrets: the configuration, TLS assets and web config.
    if (object.apiVersion.startsWith("monitoring.coreos.com/") && object.kind === "Prometheus")
      for (const suffix of ["", "-tls-assets-0", "-web-config"])
        add(namespace, `prometheus-${object.metadata.name}${suffix}`);
    if (object.apiVersion.startsWith("monitoring.coreos.com/") && object.kind === "Alertmanager")
      for (const suffix of ["-generated", "-tls-assets-0", "-web-config"])
        add(namespace, `alertmanager-${object.metadata.name}${suffix}`);
    // CloudNativePG's generated Secrets for a Cluster (its documentation's names).
    if (object.kind === "Cluster" && object.apiVersion.startsWith("postgresql.cnpg.io/")) {
      for (const suffix of ["app", "superuser", "ca", "replication", "server"])
        add(namespace, `${object.metadata.name}-${suffix}`);
    }
  }
  return found;
}

function inNamespaceSecrets(placed: Placed[], namespace: string): string[] {
  return placed
    .filter((p) => p.namespace === namespace && p.object.kind === "Secret")
    .map((p) => p.object.metadata.name);
}

export interface RenderReport {
  stack: string;
  charts: string;
  releases: { name: string; chart: string; version: string; namespace: string; objects: number; file?: string }[];
  /** Per namespace with a quota: its hard limits and what its objects use, in base units (cores, bytes). */
  quotas: Record<string, QuotaUsage>;
  findings: Finding[];
}

/** The program's own Kubernetes objects, secrets in plaintext, each with its namespace. */
export function programObjects(run: StackRun): Placed[] {
  return kubernetesObjects(run).map(({ object }) => {
    const o = unwrapSecrets<KubeObject>(object);
    return { object: o, namespace: o.metadata.namespace ?? "" };
  });
}

/** What the render gate found, and the files it has for --out (paths relative to it); it writes nothing itself. */
export interface RenderResult {
  report: RenderReport;
  flows: FlowReport;
  files: [string, string][];
}

/** Renders every release of a run from the chart cache and checks the result with the plan. */
export async function renderStack(
  run: StackRun,
  chartsDir: string,
  out: string,
  modelConfig: ModelConfig,
): Promise<RenderResult> {
  const placed = programObjects(run);
  const own = placed.map((p) => p.object);
  const namespaces = own.filter((o) => o.kind === "Namespace");
  const levels = new Map(
    namespaces.map((n) => [n.metadata.name, n.metadata.labels?.["pod-security.kubernetes.io/enforce"] ?? "restricted"]),
  );
  const version = namespaces[0]?.metadata.labels?.["pod-security.kubernetes.io/enforce-version"] ?? "v1.36";
  const kubeVersion = version.replace(/^v/, "");
  const missing: string[] = [];
  const releases = ofType(run, HELM_RELEASE).flatMap((r) => {
    const chart = (Object.values(CHARTS) as Chart[]).find(
      (c) => c.chart === r.inputs["chart"] && c.version === r.inputs["version"],
    );
    if (!chart)
      throw new Error(
        `release ${String(r.inputs["name"])}: chart ${String(r.inputs["chart"])} is not pinned in components/charts.ts`,
      );
    const location = localChart(chartsDir, chart);
    if (!location) {
      missing.push(`${chart.chart} ${chart.version}`);
      return [];
    }
    return {
      release: String(r.inputs["name"]),
      chart: location,
      pinned: chart,
      namespace: String(r.inputs["namespace"]),
      values: unwrapSecrets<Record<string, unknown>>(r.inputs["values"] ?? {}),
    };
  });
  if (missing.length) {
    throw new Error(`not in the chart cache ${chartsDir}: ${missing.join(", ")}; run npm run charts:pull`);
  }
  const helm = helmBinary();
  // The platform's APIs: what the program's objects use, then (a first pass) every CRD a chart installs.
  const apis = new Set([
    "apiregistration.k8s.io/v1",
    ...own.flatMap((o) => [o.apiVersion, `${o.apiVersion}/${o.kind}`]),
  ]);
  for (const r of releases) {
    const { objects } = renderRelease(helm, { ...r, kubeVersion, apiVersions: [...apis] });
    for (const crd of objects.filter((o) => o.kind === "CustomResourceDefinition"))
      servedApis(crd).forEach((a) => apis.add(a));
  }
  const findings: Finding[] = [];
  const report: RenderReport = { stack: run.stack, charts: chartsDir, releases: [], quotas: {}, findings };
  const files: [string, string][] = [];
  for (const r of releases) {
    const { objects, error } = renderRelease(helm, { ...r, kubeVersion, apiVersions: [...apis].sort() });
    const entry = {
      name: r.release,
      chart: r.pinned.chart,
      version: r.pinned.version,
      namespace: r.namespace,
      objects: objects.length,
    };
    if (error) {
      findings.push({ check: "render", level: "error", namespace: r.namespace, release: r.release, message: error });
      report.releases.push(entry);
      continue;
    }
    // A value the chart does not read never takes effect (an unpacked chart's values.yaml and schema).
    if (fs.statSync(r.chart).isDirectory()) {
      for (const dead of deadValuePaths(r.values, r.chart)) {
        findings.push({
          check: "dead-value",
          level: "error",
          namespace: r.namespace,
          release: r.release,
          message: `${dead}: the chart does not read it`,
        });
      }
    }
    const file = path.join("rendered", `${r.release}.yaml`);
    files.push([file, objects.map((o) => stringify(o)).join("---\n")]);
    report.releases.push({ ...entry, file: path.relative(PROJECT_ROOT, path.join(out, file)) });
    for (const object of objects)
      placed.push({ object, namespace: object.metadata.namespace ?? r.namespace, release: r.release });
  }
  const versions = new Map(
    namespaces.flatMap((n) => {
      const v = n.metadata.labels?.["pod-security.kubernetes.io/enforce-version"];
      return v ? [[n.metadata.name, v] as const] : [];
    }),
  );
  findings.push(...(await podSecurityFindings(placed, levels, versions)));
  const created = runtimeSecrets(placed);
  findings.push(...referenceFindings(placed, created));
  // Secrets no manifest shows: Helm's, one per release (its current revision) in the release's
  // namespace, and those controllers and jobs create at run time from the plan's and charts' objects.
  const extraSecrets = (ns: string) => {
    const shown = new Set(inNamespaceSecrets(placed, ns));
    const runtime = [...(created.get(ns) ?? [])].filter((name) => !shown.has(name)).length;
    return releases.filter((r) => r.namespace === ns).length + runtime;
  };
  const fit = quotaFit(own, placed, extraSecrets);
  report.quotas = fit.quotas;
  findings.push(...fit.findings);
  findings.push(...imageFindings(placed));
  // The network: every flow the platform needs, over the program's and the charts' policies.
  const flows = analyzeFlows(buildModel(placed, modelConfig, false));
  findings.push(...flowFindings(flows));
  files.push(...flowFiles(run.stack, flows), ["render-report.json", JSON.stringify(report, null, 2) + "\n"]);
  return { report, flows, files };
}

export async function main(argv: string[]): Promise<number> {
  const args = parseStackArgs(argv, USAGE);
  if (!args) return 2;
  const { stack } = args;
  const out = outDirOf(stack, args.out);
  const outProblem = checkOut(out);
  if (outProblem) {
    console.error(outProblem);
    return 2;
  }
  // The whole environment, every project together: quotas and flows span them.
  const { whole: run } = await runPlanned(stack, {
    overrides: args.config,
    ...(args.project ? { project: args.project } : {}),
  });
  if (run.error) {
    console.error(run.error.message);
    return 1;
  }
  let report: RenderReport;
  try {
    const modelConfig = modelConfigFor(PROJECT_ROOT, stack, args.config);
    const result = await renderStack(run, args.charts ?? defaultChartsDir(), out, modelConfig);
    report = result.report;
    writeOut(out, "render", result.files);
  } catch (err) {
    console.error((err as Error).message);
    return 1;
  }
  const errors = report.findings.filter((f) => f.level === "error");
  if (args.json) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    console.log(`Render gate for stack ${stack}: ${report.releases.length} releases from ${report.charts}`);
    for (const r of report.releases)
      console.log(`  ${r.name}  ${r.chart} ${r.version}  ${r.namespace}  ${r.objects} objects`);
    for (const f of report.findings) {
      const where = [f.namespace, f.release].filter(Boolean).join(" ");
      console.log(`  ${f.level}  ${f.check}  ${where}: ${f.message}`);
    }
    const advisory = report.findings.length - errors.length;
    console.log(
      `${errors.length} findings that fail the gate, ${advisory} advisory; report in ${path.join(out, "render-report.json")}`,
    );
  }
  return errors.length ? 1 : 0;
}
