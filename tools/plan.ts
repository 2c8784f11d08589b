/**
 * npm run plan -- <stack> [--project cluster|data|app|governance|single] [--config key=value ...]
 *                        [--secret key=value ...] [--out DIR] [--json]
 *
 * Runs the real program for a stack offline, under Pulumi's mock runtime, and shows what
 * `pulumi up` would register in each of the environment's projects (cluster, data, app,
 * governance, in the order they are brought up; a review stack is one stack of the single-stack
 * project): the resource trees, a count by type, and (in DIR, default .plan/<stack>)
 * resources.json plus one YAML manifest per Kubernetes object. `--project` shows one project.
 * Then runs the doc-rag-security policy pack on each project's stack with the stack's policy
 * config, as `pulumi preview --policy-pack` would, and writes policy-report.json; a mandatory
 * violation exits 1.
 * Secrets appear as "[secret]". A config error prints every problem, writes nothing, exits 1.
 */
import * as path from "node:path";
import { parseArgs } from "node:util";
import { checkOut, outDirOf, writeOut } from "./outDir";
import { stringify } from "yaml";
import { PACK_NAME, policies } from "../policies/pack";
import { parseConfig } from "../components/config";
import { SINGLE_STACK_PROJECT } from "../components/environment/projects";
import {
  applyOverrides,
  evaluatePack,
  kubernetesObjects,
  type PackReport,
  policyTargets,
  POLICY_CONFIG_DIR,
  PROJECT_ROOT,
  readStackConfig,
  redactSecrets,
  PROJECT_CHOICES,
  type ProjectChoice,
  runPlanned,
  type RecordedResource,
  type StackRun,
  stackPackConfig,
} from "../lib";

const USAGE =
  "usage: npm run plan -- <stack> [--project cluster|data|app|governance|single] [--config key=value ...] [--secret key=value ...] [--out DIR] [--json]";

interface PlanArgs {
  stack: string;
  project?: ProjectChoice;
  overrides: string[];
  /** What-if `pulumi config set --secret`: the value is secret wherever it lands. */
  secrets: string[];
  out: string;
  json: boolean;
}

export function parsePlanArgs(argv: string[]): PlanArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: "string", short: "c", multiple: true },
      secret: { type: "string", multiple: true },
      out: { type: "string" },
      json: { type: "boolean" },
      project: { type: "string" },
    },
  });
  const [stack, ...extra] = positionals;
  if (!stack || extra.length > 0) {
    throw new Error(USAGE);
  }
  const project = values.project;
  if (project !== undefined && !PROJECT_CHOICES.includes(project as ProjectChoice)) {
    throw new Error(`--project ${JSON.stringify(project)}: must be one of ${PROJECT_CHOICES.join(", ")}\n${USAGE}`);
  }
  return {
    stack,
    ...(project ? { project: project as ProjectChoice } : {}),
    overrides: values.config ?? [],
    secrets: values.secret ?? [],
    out: outDirOf(stack, values.out),
    json: values.json ?? false,
  };
}

/** The resource tree, component → children, one line each: type, name and notable options. */
export function renderTree(run: StackRun): string {
  const children = new Map<string | undefined, RecordedResource[]>();
  for (const r of run.resources) {
    const siblings = children.get(r.parent) ?? [];
    siblings.push(r);
    children.set(r.parent, siblings);
  }
  const lines: string[] = [];
  const walk = (parent: string | undefined, indent: string) => {
    const list = [...(children.get(parent) ?? [])].sort((a, b) => a.urn.localeCompare(b.urn));
    list.forEach((r, i) => {
      const last = i === list.length - 1;
      const flags = [r.read && "read", r.options.protect && "protected", r.options.retainOnDelete && "retained"].filter(
        Boolean,
      );
      const suffix = flags.length ? `  [${flags.join(", ")}]` : "";
      lines.push(`${indent}${last ? "└─ " : "├─ "}${r.type}  ${r.name}${suffix}`);
      walk(r.urn, indent + (last ? "   " : "│  "));
    });
  };
  walk(undefined, "");
  return lines.join("\n");
}

export function countByType(run: StackRun): [string, number][] {
  const counts = new Map<string, number>();
  for (const r of run.resources) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
  return [...counts.entries()].sort(([a], [b]) => a.localeCompare(b));
}

/** DIR/resources.json and DIR/manifests/<namespace>/<kind>-<name>.yaml, as files for --out. */
export function planFiles(run: StackRun): [string, string][] {
  const files: [string, string][] = [["resources.json", JSON.stringify(redactSecrets(run.resources), null, 2) + "\n"]];
  for (const { object } of kubernetesObjects(run)) {
    const namespace = object.metadata.namespace ?? "_cluster";
    files.push([
      path.join("manifests", namespace, `${object.kind.toLowerCase()}-${object.metadata.name}.yaml`),
      stringify(redactSecrets(object), { sortMapEntries: true }),
    ]);
  }
  return files;
}

/** Each project's share of a policy report. */
interface ProjectReport {
  project: string;
  resources: number;
  mandatory: number;
  advisory: number;
}

/**
 * The pack's run over each project's stack with the stack's policy config (Pulumi judges each
 * stack alone), as one report: every violation (its URN names its project), the sums, and each
 * project's share.
 */
export async function policyReport(
  parts: readonly StackRun[],
): Promise<PackReport & { pack: string; config: string; projects: ProjectReport[] }> {
  const stack = parts[0]?.stack ?? "";
  const config = path.join(POLICY_CONFIG_DIR, `${stack}.json`);
  const combined = { pack: PACK_NAME, config: path.relative(PROJECT_ROOT, config), projects: [] as ProjectReport[] };
  const reports: PackReport[] = [];
  for (const part of parts) {
    const report = await evaluatePack(policies, policyTargets(part), stackPackConfig(stack));
    reports.push(report);
    combined.projects.push({
      project: part.project ?? SINGLE_STACK_PROJECT,
      resources: part.resources.length,
      mandatory: report.mandatory,
      advisory: report.advisory,
    });
  }
  const union = (pick: (r: PackReport) => string[]) => [...new Set(reports.flatMap(pick))];
  return {
    ...combined,
    violations: reports.flatMap((r) => r.violations),
    evaluated: union((r) => r.evaluated),
    disabled: union((r) => r.disabled),
    mandatory: reports.reduce((n, r) => n + r.mandatory, 0),
    advisory: reports.reduce((n, r) => n + r.advisory, 0),
  };
}

export async function main(argv: string[]): Promise<number> {
  let args: PlanArgs;
  try {
    args = parsePlanArgs(argv);
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  // Before the run: a bad --out fails in one line, having evaluated and written nothing.
  const outProblem = checkOut(args.out);
  if (outProblem) {
    console.error(outProblem);
    return 2;
  }
  // The config first, as the program's first step checks it: a bad one fails before any evaluation.
  try {
    const input = applyOverrides(
      applyOverrides(readStackConfig(PROJECT_ROOT, args.stack), args.overrides),
      args.secrets,
      {
        secret: true,
      },
    );
    parseConfig(input.config, new Set(input.secretKeys), args.stack);
  } catch (err) {
    console.error((err as Error).message);
    return 1;
  }
  let parts: StackRun[];
  let run: StackRun;
  try {
    ({ parts, whole: run } = await runPlanned(args.stack, {
      overrides: args.overrides,
      secretOverrides: args.secrets,
      ...(args.project ? { project: args.project } : {}),
    }));
  } catch (err) {
    console.error((err as Error).message);
    return 1;
  }
  if (run.error) {
    const failed = parts.find((part) => part.error)?.project;
    console.error(`${failed ? `${failed}: ` : ""}${run.error.message}`);
    return 1;
  }
  // The pack runs before anything is written: a stack without its policy config writes nothing.
  let policy: Awaited<ReturnType<typeof policyReport>>;
  let files: [string, string][];
  try {
    policy = await policyReport(parts);
    files = planFiles(run);
    writeOut(args.out, "plan", [...files, ["policy-report.json", JSON.stringify(policy, null, 2) + "\n"]]);
  } catch (err) {
    console.error((err as Error).message);
    return 1;
  }
  const status = policy.mandatory > 0 ? 1 : 0;
  if (args.json) {
    console.log(
      JSON.stringify(
        { stack: run.stack, outputs: redactSecrets(run.outputs), resources: redactSecrets(run.resources), policy },
        null,
        2,
      ),
    );
    return status;
  }
  const projects = policy.projects.map((p) => `${p.project} ${p.resources}`).join(", ");
  console.log(
    `Plan for stack ${run.stack}: ${run.resources.length} resources${parts.length > 1 ? ` in ${parts.length} projects, brought up in this order: ${projects}` : ` (${projects.split(" ")[0]})`}`,
  );
  for (const part of parts) {
    if (parts.length > 1) console.log(`\n${part.project} (${part.resources.length} resources)`);
    console.log(`\n${renderTree(part)}`);
  }
  console.log("\nBy type:");
  for (const [type, n] of countByType(run)) console.log(`  ${String(n).padStart(4)}  ${type}`);
  console.log("\nOutputs:");
  console.log(stringify(redactSecrets(run.outputs)).replace(/^/gm, "  ").trimEnd());
  console.log(
    `\nPolicy pack ${policy.pack} (${policy.config}) on each project's stack: ${policy.evaluated.length} policies, ${policy.mandatory} mandatory and ${policy.advisory} advisory violations`,
  );
  for (const v of policy.violations) console.log(`  ${v.enforcementLevel}  ${v.policy}  ${v.name}: ${v.message}`);
  const shown = (file: string) => path.relative(process.cwd(), path.join(args.out, file));
  console.log(
    `\nWrote ${shown("resources.json")}, ${shown("policy-report.json")} and ${files.length - 1} manifests under ${shown("manifests")}/`,
  );
  return status;
}
