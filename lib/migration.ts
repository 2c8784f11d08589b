/**
 * Moving a stack made before the split by lifecycle (every layer in one stack of the doc-rag
 * project) into the four project stacks, without destroying anything: which URN goes to which
 * project, as `pulumi state move` takes them. Each object keeps its type chain and name, so its
 * URN in the destination (the CLI rewrites project and stack) is the one the project's program
 * registers: the next `pulumi up` sees it unchanged.
 */
import { PROJECTS, SINGLE_STACK_PROJECT, type Layer } from "../components/environment/projects";
import type { RecordedResource, StackRun } from "./resources";

/**
 * The URNs as the engine writes them, by recorded (mock) URN. The engine puts a child's whole
 * qualified parent type before its own type (`Delivery$Edge$Release`), and nothing for a child of
 * the root stack; Pulumi's mock monitor puts only the parent's own type, the stack's included.
 */
export function engineUrns(resources: readonly Pick<RecordedResource, "urn" | "type" | "name" | "parent">[]) {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const urns = new Map<string, string>();
  const qualifiedType = (urn: string): string => {
    const resource = byUrn.get(urn);
    if (!resource) return "";
    const parent = resource.parent && byUrn.has(resource.parent) ? qualifiedType(resource.parent) : "";
    return parent ? `${parent}$${resource.type}` : resource.type;
  };
  for (const r of resources) {
    const prefix = /^urn:pulumi:[^:]+::[^:]+::/.exec(r.urn)?.[0] ?? "";
    urns.set(r.urn, `${prefix}${qualifiedType(r.urn)}::${r.name}`);
  }
  return urns;
}

/** The URN with another project (and stack): what `pulumi state move` makes of it. */
export function rehomed(urn: string, project: string, stack?: string): string {
  return urn.replace(
    /^urn:pulumi:([^:]+)::[^:]+::/,
    (_, current: string) => `urn:pulumi:${stack ?? current}::${project}::`,
  );
}

/** A URN without its project and stack: the same resource wherever it lives. */
export const placeless = (urn: string) => rehomed(urn, "_", "_");

export interface MovePlan {
  stack: string;
  /** Per layer, in bring-up order: the source URNs (as the engine writes them) to move there. */
  moves: { layer: Layer; project: string; urns: string[] }[];
  /**
   * Each moved URN as `pulumi state move` rewrites it: the destination's project and stack, and the
   * type chain of its new parent; a resource whose parent stays behind becomes the stack's child.
   */
  renamed: Record<string, string>;
  /**
   * Components more than one project has (a layer's part of the same component): they stay in
   * the source, their children move, and each project's next update creates its own. No object
   * in the cluster or a cloud is behind a component.
   */
  sharedComponents: string[];
  /** What the source holds that no project registers (would be lost): the plan refuses to run. */
  unplaced: string[];
}

/**
 * Which project takes each resource of the single stack (`source`, engine URNs): the one whose
 * program registers the same URN, project aside. Providers are copied by `pulumi state move`
 * itself and are not listed.
 */
export function planMoves(
  stack: string,
  source: readonly (Pick<RecordedResource, "urn" | "type" | "custom"> & { parent?: string })[],
  layers: readonly { layer: Layer; run: StackRun }[],
): MovePlan {
  const owners = new Map<string, Layer[]>();
  for (const { layer, run } of layers)
    for (const urn of engineUrns(run.resources).values())
      owners.set(placeless(urn), [...(owners.get(placeless(urn)) ?? []), layer]);
  const moves = new Map<Layer, string[]>();
  const sharedComponents: string[] = [];
  const unplaced: string[] = [];
  for (const resource of source) {
    if (resource.type.startsWith("pulumi:providers:") || resource.type === "pulumi:pulumi:Stack") continue;
    const [owner, ...others] = owners.get(placeless(resource.urn)) ?? [];
    if (owner && !others.length) moves.set(owner, [...(moves.get(owner) ?? []), resource.urn]);
    else if (owner && !resource.custom) sharedComponents.push(resource.urn);
    else unplaced.push(resource.urn);
  }
  const planned = layers.map(({ layer }) => ({ layer, project: PROJECTS[layer], urns: moves.get(layer) ?? [] }));
  return { stack, moves: planned, renamed: renamedByMove(source, planned), sharedComponents, unplaced };
}

/** What `pulumi state move` makes of each moved URN (state_move.go: rewriteURNs). */
function renamedByMove(
  source: readonly { urn: string; type: string; parent?: string }[],
  moves: readonly { project: string; urns: string[] }[],
): Record<string, string> {
  const byUrn = new Map(source.map((r) => [r.urn, r]));
  const renamed: Record<string, string> = {};
  for (const { project, urns } of moves) {
    const moving = new Set(urns);
    // The source is in dependency order: a parent is renamed before its children.
    for (const urn of source.map((r) => r.urn).filter((u) => moving.has(u))) {
      const resource = byUrn.get(urn);
      if (!resource) continue;
      const parent = resource.parent && moving.has(resource.parent) ? renamed[resource.parent] : undefined;
      const parentType = parent ? parent.split("::")[2] : undefined;
      const stack = /^urn:pulumi:([^:]+)::/.exec(urn)?.[1] ?? "";
      const name = urn.slice(urn.lastIndexOf("::") + 2);
      renamed[urn] = `urn:pulumi:${stack}::${project}::${parentType ? `${parentType}$` : ""}${resource.type}::${name}`;
    }
  }
  return renamed;
}

/** The shell script that moves the stack: each project's stack created, then its resources moved into it. */
export function moveScript(plan: MovePlan, organization: string): string {
  const source = `${organization}/${SINGLE_STACK_PROJECT}/${plan.stack}`;
  const lines = [
    "#!/usr/bin/env bash",
    `# Moves ${source} into the four project stacks (docs/operations.md, "Moving a stack made before the split").`,
    "# Run from the repository root, logged in to the stack's backend; each step stops the script if it fails.",
    "set -euo pipefail",
    `pulumi stack export --stack ${source} --file ${plan.stack}-before-split.json`,
  ];
  for (const { layer, project, urns } of plan.moves) {
    if (!urns.length) continue;
    const dest = `${organization}/${project}/${plan.stack}`;
    lines.push(
      "",
      `# ${project}: ${urns.length} resources`,
      `pulumi stack select --create --stack ${dest} --cwd projects/${layer}`,
      `pulumi state move --cwd projects/${layer} --source ${source} --dest ${dest} --yes \\`,
      ...urns.map((urn, i) => `  '${urn}'${i === urns.length - 1 ? "" : " \\"}`),
    );
  }
  lines.push(
    "",
    `# What remains in ${source}: the components the projects share (nothing in the cluster behind them).`,
    `# Check every project's preview shows no replacement, then: pulumi stack rm --force --stack ${source}`,
  );
  return lines.join("\n") + "\n";
}
