/**
 * npm run up -- <stack> [--project cluster|data|app|governance] [--preview | --destroy] [-- <pulumi args>]
 *
 * Brings up a whole environment with the real Pulumi CLI: `pulumi up` in each of its projects
 * (projects/cluster, data, app, governance: the ones the stack's config has) in that order, each
 * with the doc-rag-security pack and the stack's policy config, stopping at the first that fails.
 * `--preview` previews each instead; `--destroy` destroys in the reverse order. `--project` runs
 * one project. Arguments after `--` go to every pulumi command (e.g. --yes, --diff). A review
 * stack is one stack of the single-stack project at the repository root: run pulumi there.
 * Needs `pulumi` on PATH (or $PULUMI); exits with the failing command's status, 2 on bad arguments.
 */
import * as path from "node:path";
import { parseArgs } from "node:util";
import { LAYERS, PROJECTS, type Layer } from "../components/environment/projects";
import { environmentLayers, PROJECT_ROOT, stackNameProblem } from "../lib";
import { POLICY_CONFIG_DIR } from "../lib/packRunner";
import { run } from "./e2e/process";

const USAGE =
  "usage: npm run up -- <stack> [--project cluster|data|app|governance] [--preview | --destroy] [-- <pulumi args>]";

export interface UpArgs {
  stack: string;
  project?: Layer;
  mode: "up" | "preview" | "destroy";
  pulumiArgs: string[];
}

export function parseUpArgs(argv: string[]): UpArgs {
  const split = argv.indexOf("--");
  const own = split < 0 ? argv : argv.slice(0, split);
  const { values, positionals } = parseArgs({
    args: own,
    allowPositionals: true,
    options: { project: { type: "string" }, preview: { type: "boolean" }, destroy: { type: "boolean" } },
  });
  const [stack, ...extra] = positionals;
  if (!stack || extra.length) throw new Error(USAGE);
  const problem = stackNameProblem(stack);
  if (problem) throw new Error(`stack ${JSON.stringify(stack)}: ${problem}`);
  const project = values.project;
  if (project !== undefined && !(LAYERS as readonly string[]).includes(project)) {
    throw new Error(`--project ${JSON.stringify(project)}: must be one of ${LAYERS.join(", ")}\n${USAGE}`);
  }
  if (values.preview && values.destroy) throw new Error(`--preview and --destroy exclude each other\n${USAGE}`);
  return {
    stack,
    ...(project ? { project: project as Layer } : {}),
    mode: values.destroy ? "destroy" : values.preview ? "preview" : "up",
    pulumiArgs: split < 0 ? [] : argv.slice(split + 1),
  };
}

/** The pulumi commands, in order: [working directory, arguments]. */
export function upCommands(args: UpArgs, layers: readonly Layer[]): [string, string[]][] {
  const chosen = args.project ? [args.project] : args.mode === "destroy" ? [...layers].reverse() : [...layers];
  // The pack judges every change, as Deployments' policy group does; destroy has nothing to judge.
  const pack =
    args.mode === "destroy"
      ? []
      : [
          "--policy-pack",
          path.join(PROJECT_ROOT, "policies"),
          "--policy-pack-config",
          path.join(POLICY_CONFIG_DIR, `${args.stack}.json`),
        ];
  return chosen.map((layer) => [
    path.join(PROJECT_ROOT, "projects", layer),
    [args.mode, "--stack", args.stack, ...pack, ...args.pulumiArgs],
  ]);
}

export async function main(argv: string[]): Promise<number> {
  let args: UpArgs;
  let layers: Layer[];
  try {
    args = parseUpArgs(argv);
    layers = environmentLayers(args.stack);
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  if (!layers.length) {
    console.error(
      `stack ${args.stack} has no project stacks: a review stack is one stack of the single-stack project; run pulumi at the repository root`,
    );
    return 2;
  }
  if (args.project && !layers.includes(args.project)) {
    console.error(`stack ${args.stack} has no ${args.project} project stack (its projects: ${layers.join(", ")})`);
    return 2;
  }
  const pulumi = process.env["PULUMI"] ?? "pulumi";
  for (const [cwd, pulumiArgs] of upCommands(args, layers)) {
    const project = PROJECTS[path.basename(cwd) as Layer];
    console.log(`\n== ${project}: pulumi ${pulumiArgs.join(" ")}`);
    let code: number;
    try {
      code = await run(pulumi, pulumiArgs, { cwd, inherit: true });
    } catch (err) {
      console.error(`${pulumi}: ${(err as Error).message} (install the Pulumi CLI, or set PULUMI to its path)`);
      return 1;
    }
    if (code !== 0) {
      console.error(`${project} failed (exit ${code}); the projects after it were not run`);
      return code;
    }
  }
  return 0;
}
