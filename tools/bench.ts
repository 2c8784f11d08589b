/**
 * npm run bench [-- --runs N] [--record] [--no-suite] [--charts DIR]
 *
 * Measures, each in fresh processes from the built tools (dist/), median of N:
 * - the floor: a process that loads every dependency module an evaluation loads and sets the
 *   mocks (tools/benchFloor.ts), against a process that evaluates the program for a stack
 *   (tools/evaluate.ts): the difference is what the program's own code costs;
 * - `npm run policy:check` on one small file, from start to exit;
 * - the policy pack's throughput over 1,000 and 10,000 generated resources, in-process;
 * - with the suite (unless --no-suite): `npm test`'s phases, once each, as `npm test` runs them;
 * - the render gate per stack whose charts are all in the chart cache (--charts DIR, default the
 *   user's cache), from start to exit; a stack with a chart missing is reported as skipped.
 * --record appends the result, with machine and date, to BENCHMARKS.md.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { policies } from "../policies/pack";
import { PROJECT_ROOT } from "../lib/paths";
import { machine, report } from "./benchMachine";
import { policyThroughput } from "./benchPolicies";
import { defaultChartsDir } from "../lib/helm";

const STACKS = ["dev", "pr", "staging", "production"];
const BUILT = path.resolve(__dirname, "..");

/** npm test's phases, each as the package script runs it (npm test runs the checks beside mocha). */
export const SUITE_PHASES: readonly { name: string; command: string[] }[] = [
  { name: "build", command: ["npm", "run", "--silent", "build"] },
  {
    name: "checks: typecheck and type-aware lint on one program, prettier, markdownlint",
    command: ["npm", "run", "--silent", "checks"],
  },
  { name: "mocha under c8", command: ["npm", "run", "--silent", "test:unit"] },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const at = (i: number) => sorted[i] ?? Number.NaN;
  return sorted.length % 2 ? at(mid) : (at(mid - 1) + at(mid)) / 2;
}

function runTimed([command = "", ...args]: string[]) {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, { cwd: PROJECT_ROOT, encoding: "utf8" });
  return { ...result, command: [command, ...args].join(" "), ms: Number(process.hrtime.bigint() - start) / 1e6 };
}

function succeeded(run: ReturnType<typeof runTimed>, findingsOk = false): number {
  if (run.status !== 0 && !(findingsOk && run.status === 1)) {
    throw new Error(`${run.command} failed (${run.status}): ${run.stderr}${run.stdout}`);
  }
  return run.ms;
}

/** Wall time of a process; it must succeed, or with `findingsOk` may also exit 1 (a gate's findings). */
function timeProcess(command: string[], findingsOk = false): number {
  return succeeded(runTimed(command), findingsOk);
}

/** The number a stack's evaluation prints: "<stack>: N resources". */
function resourceCount(stack: string): number {
  const out = spawnSync(process.execPath, [path.join(BUILT, "tools", "evaluate.js"), stack], { encoding: "utf8" });
  return Number(/: (\d+) resources/.exec(out.stdout)?.[1] ?? Number.NaN);
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: "string", default: "5" },
      record: { type: "boolean", default: false },
      "no-suite": { type: "boolean", default: false },
      charts: { type: "string" },
    },
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) {
    console.error(`--runs must be a whole number of at least 1, got ${values.runs}`);
    return 2;
  }
  const sample = (command: string[]) => median(Array.from({ length: runs }, () => timeProcess(command)));
  const node = (script: string, ...args: string[]) => [process.execPath, path.join(BUILT, "tools", script), ...args];

  const modules = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "doc-rag-bench-")), "modules.json");
  timeProcess(node("evaluate.js", "production", "--modules", modules));
  const floor = sample(node("benchFloor.js", modules));
  const rows = STACKS.map((stack) => ({
    stack,
    ms: sample(node("evaluate.js", stack)),
    resources: resourceCount(stack),
  }));

  const small = path.join(path.dirname(modules), "namespace.yaml");
  const labels = "  labels:\n    pod-security.kubernetes.io/enforce: restricted\n";
  fs.writeFileSync(small, `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: example\n${labels}`);
  const policyCheck = sample(["npm", "run", "--silent", "policy:check", "--", small]);
  const policyCheckNode = sample([
    process.execPath,
    path.join(PROJECT_ROOT, "tools", "launch.cjs"),
    "policyCheck",
    small,
  ]);

  const smallPack = await policyThroughput(1_000, runs);
  const largePack = await policyThroughput(10_000, runs);
  const chartsDir = values.charts ?? defaultChartsDir();
  const renders = STACKS.map((stack) => {
    const out = path.join(path.dirname(modules), "render", stack);
    const args = [path.join(PROJECT_ROOT, "tools", "launch.cjs"), "render", stack, "--charts", chartsDir, "--out", out];
    // The first run also tells whether every chart of the stack is cached.
    const first = runTimed([process.execPath, ...args]);
    if (/charts:pull/.test(first.stderr)) return { stack, ms: undefined };
    const rest = Array.from({ length: runs - 1 }, () => timeProcess([process.execPath, ...args], true));
    return { stack, ms: median([succeeded(first, true), ...rest]) };
  });
  const suite = values["no-suite"] ? [] : SUITE_PHASES.map((p) => ({ name: p.name, ms: timeProcess(p.command) }));
  fs.rmSync(path.dirname(modules), { recursive: true, force: true });

  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const lines = [
    `### ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC: evaluation, checker start-up, pack throughput`,
    "",
    `Machine: ${machine()}. Median of ${runs} fresh processes each, tools built to dist/.`,
    "",
    "| process | median | resources | ms per resource | program's own / floor |",
    "|---|---:|---:|---:|---:|",
    `| floor: every dependency module an evaluation loads, mocks set | ${floor.toFixed(0)} ms | | | |`,
    ...rows.map(
      (r) =>
        `| evaluate \`${r.stack}\` | ${r.ms.toFixed(0)} ms | ${r.resources} | ${((r.ms - floor) / r.resources).toFixed(2)} | ${((r.ms - floor) / floor).toFixed(2)} |`,
    ),
    "",
    `\`npm run policy:check\` on one small file: ${policyCheck.toFixed(0)} ms from start to exit ` +
      `(${policyCheckNode.toFixed(0)} ms without npm's own start-up).`,
    "",
    `Policy pack (all ${policies.length} policies, in-process, median of ${runs} after a warm-up):`,
    "",
    "| resources | time | resources/s |",
    "|---:|---:|---:|",
    ...[smallPack, largePack].map((t) => `| ${t.resources} | ${t.ms.toFixed(0)} ms | ${t.perSecond.toFixed(0)} |`),
    "",
    `10× the resources took ${(largePack.ms / smallPack.ms).toFixed(1)}× the time (10.0 would be linear).`,
    "",
    `\`npm run render\` per stack, charts cached in ${chartsDir} (start to exit, median of ${runs}):`,
    "",
    "| stack | render |",
    "|---|---:|",
    ...renders.map(
      (r) => `| ${r.stack} | ${r.ms === undefined ? "skipped: a chart is not cached" : `${r.ms.toFixed(0)} ms`} |`,
    ),
    ...(suite.length
      ? [
          "",
          "`npm test`, phase by phase (one run each):",
          "",
          "| phase | wall |",
          "|---|---:|",
          ...suite.map((p) => `| ${p.name} | ${seconds(p.ms)} |`),
          `| **total** | **${seconds(suite.reduce((sum, p) => sum + p.ms, 0))}** |`,
        ]
      : []),
    "",
  ];
  report(lines, values.record);
  return 0;
}
