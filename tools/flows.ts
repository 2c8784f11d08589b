/**
 * npm run flows -- <stack> [--project cluster|data|app|governance|single] [--charts DIR | --own] [--out DIR]
 *                         [--json] [--config key=value ...]
 *
 * The network flows the environment needs, over every project's objects together (a flow crosses
 * projects; `--project` narrows it to one project's, `single` is the single-stack program) (tools/flows/requirements.ts), each judged against the
 * NetworkPolicies with Kubernetes' semantics (tools/flows/analyzer.ts): prints the matrix (source →
 * destination:port, allowed by which policies, or BLOCKED), the problems (a monitor that selects
 * nothing, a webhook without its Service) and the allowed flows no requirement explains, and writes
 * DIR/flows.json and DIR/flows.dot (Graphviz: namespaces as clusters). With every pinned chart in
 * the cache (`npm run charts:pull`) it renders them and judges the full picture; without (or with
 * --own), the program's own objects. Exits 1 on a blocked flow or a problem, 2 on bad arguments.
 */
import * as path from "node:path";
import { CHARTS, localChart, type Chart } from "../components/charts";
import { HELM_RELEASE } from "../policies/lib/kubernetes";
import { ofType, PROJECT_ROOT, runPlanned } from "../lib";
import { buildModel } from "./flows/model";
import { analyzeFlows, flowFiles, flowMatrix, modelConfigFor, type FlowReport } from "./flows/report";
import { defaultChartsDir } from "../lib/helm";
import { programObjects, renderStack } from "./render";
import { checkOut, outDirOf, writeOut } from "./outDir";
import { parseStackArgs } from "./stackArgs";

const USAGE =
  "usage: npm run flows -- <stack> [--project cluster|data|app|governance|single] [--charts DIR | --own] [--out DIR] [--json] [--config key=value ...]";

export async function main(argv: string[]): Promise<number> {
  const args = parseStackArgs(argv, USAGE, ["own"]);
  if (!args || (args.flags["own"] && args.charts)) {
    if (args) console.error(USAGE);
    return 2;
  }
  const { stack } = args;
  const overrides = args.config;
  const out = outDirOf(stack, args.out);
  const outProblem = checkOut(out);
  if (outProblem) {
    console.error(outProblem);
    return 2;
  }
  // The whole environment, every project together: a flow crosses projects.
  const { whole: run } = await runPlanned(stack, { overrides, ...(args.project ? { project: args.project } : {}) });
  if (run.error) {
    console.error(run.error.message);
    return 1;
  }
  const modelConfig = modelConfigFor(PROJECT_ROOT, stack, overrides);
  const charts = args.charts ?? defaultChartsDir();
  const complete = (Object.values(CHARTS) as Chart[]).every((c) => localChart(charts, c));
  let report: FlowReport;
  try {
    if (!args.flags["own"] && (complete || args.charts)) {
      report = (await renderStack(run, charts, out, modelConfig)).flows;
    } else {
      const placed = programObjects(run);
      const chartNamespaces = ofType(run, HELM_RELEASE).map((r) => String(r.inputs["namespace"]));
      report = analyzeFlows(buildModel(placed, modelConfig, { chartNamespaces }));
    }
    writeOut(out, "flows", flowFiles(stack, report));
  } catch (err) {
    console.error((err as Error).message);
    return 1;
  }
  const blocked = report.required.filter((f) => !f.allowed).length;
  const failing = report.problems.filter((p) => p.level === "error").length;
  if (args.json) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    const scope = report.partial
      ? `the program's own objects (charts not all in ${charts}: npm run charts:pull for the full picture)`
      : `the program's objects and the rendered charts (${charts})`;
    console.log(`Network flows of stack ${stack}, from ${scope}:`);
    for (const line of flowMatrix(report)) console.log(`  ${line}`);
    for (const p of report.problems) console.log(`  ${p.level}: ${p.message}`);
    for (const [ns, flows] of Object.entries(report.unexplained)) {
      console.log(`  advisory: ${ns}: ${flows.length} allowed flows no requirement explains`);
      for (const f of flows) console.log(`    ${f}`);
    }
    console.log(
      `${report.required.length} required flows, ${blocked} blocked; ${failing} problems; written to ${path.join(out, "flows.json")} and flows.dot`,
    );
  }
  return blocked || failing ? 1 : 0;
}
