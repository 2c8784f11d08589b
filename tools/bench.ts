/**
 * npm run bench [-- --runs N] [-- --record]
 *
 * Times, for each stack, a fresh process that evaluates the program under the harness
 * (tools/evaluate.ts), and the floor: a fresh process that only loads the Pulumi SDKs and
 * sets the mocks (tools/benchFloor.ts). Prints the medians and their ratio; then the policy
 * pack's throughput over 1,000 and 10,000 generated resources (tools/benchPolicies.ts).
 * --record appends the result, with machine and date, to BENCHMARKS.md.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { policies } from "../policies/pack";
import { policyThroughput } from "./benchPolicies";

const ROOT = path.resolve(__dirname, "..");
const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");
const STACKS = ["dev", "pr", "staging", "production"];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const at = (i: number) => sorted[i] ?? Number.NaN;
  return sorted.length % 2 ? at(mid) : (at(mid - 1) + at(mid)) / 2;
}

function timeProcess(args: string[]): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(TSX, args, { cwd: ROOT, encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) {
    throw new Error(`${args.join(" ")} failed (${result.status}): ${result.stderr}`);
  }
  return ms;
}

function machine(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? "unknown CPU";
  const memory = Math.round(os.totalmem() / 2 ** 30);
  return `${cpu}, ${os.cpus().length} cores, ${memory} GiB, ${os.platform()} ${os.release()}, Node ${process.version}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { runs: { type: "string", default: "5" }, record: { type: "boolean", default: false } },
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) {
    throw new Error(`--runs must be a whole number of at least 1, got ${values.runs}`);
  }
  const sample = (args: string[]) => median(Array.from({ length: runs }, () => timeProcess(args)));

  const floor = sample(["tools/benchFloor.ts"]);
  const rows = STACKS.map((stack) => ({ stack, ms: sample(["tools/evaluate.ts", stack]) }));
  const small = await policyThroughput(1_000, runs);
  const large = await policyThroughput(10_000, runs);

  const date = new Date().toISOString().slice(0, 10);
  const lines = [
    `### ${date}`,
    "",
    `Machine: ${machine()}. Median of ${runs} fresh processes each.`,
    "",
    "| process | median | × floor |",
    "|---|---:|---:|",
    `| floor: load @pulumi/pulumi + @pulumi/kubernetes, set mocks | ${floor.toFixed(0)} ms | 1.00 |`,
    ...rows.map(
      (r) => `| evaluate \`${r.stack}\` under the harness | ${r.ms.toFixed(0)} ms | ${(r.ms / floor).toFixed(2)} |`,
    ),
    "",
    `Policy pack (all ${policies.length} policies, in-process, median of ${runs} after a warm-up):`,
    "",
    "| resources | time | resources/s |",
    "|---:|---:|---:|",
    ...[small, large].map((t) => `| ${t.resources} | ${t.ms.toFixed(0)} ms | ${t.perSecond.toFixed(0)} |`),
    "",
    `10× the resources took ${(large.ms / small.ms).toFixed(1)}× the time (10.0 would be linear).`,
    "",
  ];
  console.log(lines.join("\n"));
  if (values.record) {
    fs.appendFileSync(path.join(ROOT, "BENCHMARKS.md"), "\n" + lines.join("\n"));
    console.log("Appended to BENCHMARKS.md");
  }
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
