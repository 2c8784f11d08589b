/**
 * npm run migrate -- <stack> [--state FILE] [--organization ORG] [--out DIR]
 *
 * Plans the move of a stack made before the split by lifecycle (project doc-rag, every layer in
 * one stack) into the four project stacks without destroying anything: which resource goes to
 * which project, from the offline runs of the single-stack program and of each project. With
 * --state (a `pulumi stack export` of the existing stack) it plans the stack's real resources and
 * refuses one that no project registers. Writes DIR/migrate.sh (default .plan/<stack>/): the
 * `pulumi stack select --create` and `pulumi state move` commands, in bring-up order. Exits 1 when
 * something would be left behind, 2 on bad arguments.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { PROJECT_ROOT, readStackConfig, runEnvironment, runStack, stackNameProblem } from "../lib";
import { engineUrns, moveScript, planMoves, type MovePlan } from "../lib/migration";
import type { Layer } from "../components/environment/projects";
import { checkOut, outDirOf, writeOut } from "./outDir";

const USAGE = "usage: npm run migrate -- <stack> [--state FILE] [--organization ORG] [--out DIR]";

/** The resources of a `pulumi stack export` (deployment v3): what the existing stack holds. */
export function exportedResources(file: string): { urn: string; type: string; custom: boolean; parent?: string }[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`${file}: not a stack export (${(err as Error).message})`);
  }
  const resources = (parsed as { deployment?: { resources?: unknown } }).deployment?.resources;
  if (!Array.isArray(resources)) throw new Error(`${file}: not a stack export (no deployment.resources)`);
  return resources.map((r: { urn?: unknown; type?: unknown; custom?: unknown; parent?: unknown }, i) => {
    if (typeof r.urn !== "string" || typeof r.type !== "string") {
      throw new Error(`${file}: deployment.resources[${i}] has no urn or type`);
    }
    return {
      urn: r.urn,
      type: r.type,
      custom: r.custom === true,
      ...(typeof r.parent === "string" ? { parent: r.parent } : {}),
    };
  });
}

/** The organization the deployments program names (its settings stack), for the stacks' full names. */
function defaultOrganization(): string {
  const config = readStackConfig(path.join(PROJECT_ROOT, "deployments"), "settings").config;
  return config["doc-rag-deployments:organization"] ?? "organization";
}

export async function planStackMove(stack: string, stateFile?: string): Promise<MovePlan> {
  const single = await runStack(stack);
  if (single.error) throw single.error;
  const environment = await runEnvironment(stack);
  if (environment.error) throw environment.error;
  const layers = (Object.entries(environment.layers) as [Layer, NonNullable<(typeof environment.layers)[Layer]>][]).map(
    ([layer, run]) => ({ layer, run }),
  );
  if (!layers.length)
    throw new Error(`stack ${stack} has no project stacks to move into (a review stack stays single)`);
  const urns = engineUrns(single.resources);
  const planned = single.resources.map((r) => ({
    ...r,
    urn: urns.get(r.urn) ?? r.urn,
    ...(r.parent ? { parent: urns.get(r.parent) ?? r.parent } : {}),
  }));
  return planMoves(stack, stateFile ? exportedResources(stateFile) : planned, layers);
}

export async function main(argv: string[]): Promise<number> {
  let values: { state?: string; organization?: string; out?: string };
  let stack: string;
  try {
    const parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { state: { type: "string" }, organization: { type: "string" }, out: { type: "string" } },
    });
    const [first, ...extra] = parsed.positionals;
    if (!first || extra.length) throw new Error(USAGE);
    const problem = stackNameProblem(first);
    if (problem) throw new Error(`stack ${JSON.stringify(first)}: ${problem}`);
    stack = first;
    values = parsed.values;
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  const out = outDirOf(stack, values.out);
  const outProblem = checkOut(out);
  if (outProblem) {
    console.error(outProblem);
    return 2;
  }
  let plan: MovePlan;
  try {
    plan = await planStackMove(stack, values.state);
  } catch (err) {
    console.error((err as Error).message);
    return 1;
  }
  if (plan.unplaced.length) {
    console.error(
      `${plan.unplaced.length} resources of the stack are registered by no project; moving would leave them behind:`,
    );
    for (const urn of plan.unplaced) console.error(`  ${urn}`);
    return 1;
  }
  const script = moveScript(plan, values.organization ?? defaultOrganization());
  try {
    writeOut(out, "migrate", [["migrate.sh", script]]);
  } catch (err) {
    console.error((err as Error).message);
    return 1;
  }
  console.log(`Moving stack ${stack} into its projects (${values.state ? values.state : "the offline plan"}):`);
  for (const { project, urns } of plan.moves) console.log(`  ${project}: ${urns.length} resources`);
  console.log(`  stay in the source and are re-created: ${plan.sharedComponents.length} shared components`);
  console.log(`Wrote ${path.relative(process.cwd(), path.join(out, "migrate.sh"))}`);
  return 0;
}
