/**
 * The lane's throw-away copy of the project: the user's tree is never written (`pulumi stack init`
 * and the lane's config land in the copy). What the copy changes in the stack file is returned, so
 * the report can say it: the ESC import a local backend cannot open, and the chart directory.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { kubernetesDocuments } from "../../lib/kubernetesYaml";
import { CHARTS, chartVersionDir, type Chart } from "../../components/charts";
import { escPlaceholders } from "../../components/config";
import { CHART_DATA, chartDataDir } from "../../lib/chartData";
import { PROJECT_ROOT } from "../../lib/paths";
import { run } from "./process";

/** Never copied: installed packages (linked instead), builds, outputs, git. */
const SKIP = new Set(["node_modules", ".git", "dist", ".plan", ".e2e", "coverage"]);

export interface Workspace {
  project: string;
  /** Each change the lane made to the stack's config, in one line. */
  changes: string[];
}

/** Copies the project into `dir` and links its packages (installing the policy pack's first if absent). */
export async function copyProject(dir: string, log: string): Promise<string> {
  const project = path.join(dir, "project");
  fs.rmSync(project, { recursive: true, force: true });
  fs.cpSync(PROJECT_ROOT, project, {
    recursive: true,
    filter: (src) => !SKIP.has(path.basename(src)),
  });
  fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(project, "node_modules"));
  const policies = path.join(PROJECT_ROOT, "policies");
  if (!fs.existsSync(path.join(policies, "node_modules"))) {
    // The pack is its own npm package; `pulumi preview --policy-pack` needs it installed.
    if ((await run("npm", ["ci", "--no-audit", "--no-fund"], { cwd: policies, log })) !== 0) {
      throw new Error(`npm ci in ${policies} failed; see ${log}`);
    }
  }
  fs.symlinkSync(path.join(policies, "node_modules"), path.join(project, "policies", "node_modules"));
  return project;
}

/**
 * Makes the copy's stack file one a local backend runs: an ESC import becomes the placeholder
 * release it would hold, and `chartsDir` points at the charts to install.
 */
export function prepareStackFile(
  project: string,
  stack: string,
  chartsDir: string,
): { changes: string[]; secrets: [string, string][] } {
  const file = path.join(project, `Pulumi.${stack}.yaml`);
  const doc = parseDocument(fs.readFileSync(file, "utf8"));
  const changes: string[] = [];
  const secrets: [string, string][] = [];
  const environments = doc.toJS() as { environment?: unknown };
  if (Array.isArray(environments.environment)) {
    doc.delete("environment");
    changes.push(`ESC imports ${JSON.stringify(environments.environment)} removed (a local backend has no ESC)`);
    for (const environment of environments.environment.map(String))
      for (const { key, secret, value } of escPlaceholders(environment, stack)) {
        if (doc.hasIn(["config", key])) continue;
        if (secret) {
          // Set with --secret once the stack exists, as the environment would hold it.
          secrets.push([key, String(value)]);
          changes.push(`${key} set as a secret to its placeholder, in place of ${environment}`);
        } else {
          doc.setIn(["config", key], value);
          changes.push(`${key} set to the placeholder ${environment} would hold`);
        }
      }
  }
  if (doc.hasIn(["config", "doc-rag:github"])) {
    // GitHub governance looks teams up (an invoke) while the program runs, which no exclusion skips.
    doc.deleteIn(["config", "doc-rag:github"]);
    changes.push(
      "doc-rag:github removed: GitHub governance needs a token and a repository, neither of which exists here",
    );
  }
  doc.setIn(["config", "doc-rag:chartsDir"], chartsDir);
  changes.push(`doc-rag:chartsDir set to ${chartsDir}`);
  fs.writeFileSync(file, doc.toString());
  return { changes, secrets };
}

/**
 * The copy's policy config trusts the chart directory, as a security team would for an air-gapped
 * install (helm-repository-secure refuses local charts from anywhere else).
 */
export function trustChartsDir(project: string, stack: string, chartsDir: string): string {
  const file = path.join(project, "policies", "config", `${stack}.json`);
  const config = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
  const current = config["helm-repository-secure"];
  const entry =
    typeof current === "string" ? { enforcementLevel: current } : ((current ?? {}) as Record<string, unknown>);
  const trusted = [...((entry["localChartDirectories"] as string[] | undefined) ?? []), chartsDir];
  config["helm-repository-secure"] = { ...entry, localChartDirectories: trusted };
  fs.writeFileSync(file, JSON.stringify(config, null, 2) + "\n");
  return `policy config: helm-repository-secure trusts local charts under ${chartsDir}`;
}

/**
 * The CRD files a pinned chart installs, from the upstream chart data (../shared/charts); a chart
 * with no data there is an error, since a stand-in without its CRDs would pass for tested.
 */
function crdFilesOf(chart: Chart): string[] {
  const dir = chartDataDir(chart);
  if (!dir)
    throw new Error(`no upstream chart data for ${chart.chart} ${chart.version} in ${CHART_DATA}: pass --charts DIR`);
  const crds = path.join(dir, "crds");
  return fs.existsSync(crds)
    ? fs
        .readdirSync(crds)
        .sort()
        .map((f) => path.join(crds, f))
    : [];
}

/** The CRD files every pinned chart installs. */
export const pinnedCrdFiles = (): string[] => (Object.values(CHARTS) as Chart[]).flatMap(crdFilesOf);

/**
 * Charts that install only the pinned chart's CRDs (from the upstream chart data): stand-ins for a
 * chart directory where there is none, so every release and what depends on it still runs, and
 * every custom resource meets the CRD its pinned chart installs.
 */
export function crdOnlyCharts(dir: string): string {
  fs.rmSync(dir, { recursive: true, force: true });
  for (const chart of Object.values(CHARTS) as Chart[]) {
    const name = path.basename(chart.chart);
    const target = path.join(chartVersionDir(dir, chart), name);
    fs.mkdirSync(path.join(target, "crds"), { recursive: true });
    fs.mkdirSync(path.join(target, "templates"));
    fs.writeFileSync(
      path.join(target, "Chart.yaml"),
      `apiVersion: v2\nname: ${name}\nversion: ${chart.version.replace(/^v/, "")}\ndescription: e2e stand-in installing only the CRDs of ${chart.chart} ${chart.version}\n`,
    );
    for (const file of crdFilesOf(chart)) {
      const documents = [...kubernetesDocuments(fs.readFileSync(file, "utf8"))].map((d) => {
        if ("error" in d) throw new Error(`${file}: document ${d.index}: ${d.error}`);
        return d.value;
      });
      // Helm keeps the whole chart in a release Secret of at most 1 MiB; the Prometheus Operator's
      // CRDs only fit without their descriptions, which document fields and validate nothing.
      const compact = documents.filter((d) => d !== null).map((d) => JSON.stringify(withoutDescriptions(d)));
      fs.writeFileSync(path.join(target, "crds", path.basename(file)), compact.join("\n---\n"));
    }
  }
  return dir;
}

/** A schema without its documentation: every string-valued `description` removed, at any depth. */
function withoutDescriptions(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutDescriptions);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k, v]) => !(k === "description" && typeof v === "string"))
      .map(([k, v]) => [k, withoutDescriptions(v)]),
  );
}
