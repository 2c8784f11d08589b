/**
 * npm run plan -- <stack> [--config key=value ...] [--out DIR] [--json]
 *
 * Runs the real program for a stack offline, under Pulumi's mock runtime, and shows what
 * `pulumi up` would register: the resource tree, a count by type, and (in DIR, default
 * .plan/<stack>) resources.json plus one YAML manifest per Kubernetes object. Secrets
 * appear as "[secret]". A config error prints every problem, writes nothing, exits 1.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import {
  kubernetesObjects,
  PROJECT_ROOT,
  redactSecrets,
  runStack,
  type RecordedResource,
  type StackRun,
} from "../test/harness";

const USAGE = "usage: npm run plan -- <stack> [--config key=value ...] [--out DIR] [--json]";

interface PlanArgs {
  stack: string;
  overrides: string[];
  out: string;
  json: boolean;
}

export function parsePlanArgs(argv: string[]): PlanArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: "string", short: "c", multiple: true },
      out: { type: "string" },
      json: { type: "boolean" },
    },
  });
  const [stack, ...extra] = positionals;
  if (!stack || extra.length > 0) {
    throw new Error(USAGE);
  }
  return {
    stack,
    overrides: values.config ?? [],
    out: path.resolve(values.out ?? path.join(PROJECT_ROOT, ".plan", stack)),
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
      const flags = [r.options.protect && "protected", r.options.retainOnDelete && "retained"].filter(Boolean);
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

/** Writes DIR/resources.json and DIR/manifests/<namespace>/<kind>-<name>.yaml. */
export function writePlan(run: StackRun, out: string): string[] {
  const manifestsDir = path.join(out, "manifests");
  fs.rmSync(manifestsDir, { recursive: true, force: true });
  fs.mkdirSync(manifestsDir, { recursive: true });
  const written: string[] = [];
  const resourcesFile = path.join(out, "resources.json");
  fs.writeFileSync(resourcesFile, JSON.stringify(redactSecrets(run.resources), null, 2) + "\n");
  written.push(resourcesFile);
  for (const { object } of kubernetesObjects(run)) {
    const namespace = object.metadata.namespace ?? "_cluster";
    const file = path.join(manifestsDir, namespace, `${object.kind.toLowerCase()}-${object.metadata.name}.yaml`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, stringify(redactSecrets(object), { sortMapEntries: true }));
    written.push(file);
  }
  return written;
}

export async function main(argv: string[]): Promise<number> {
  let args: PlanArgs;
  try {
    args = parsePlanArgs(argv);
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  let run: StackRun;
  try {
    run = await runStack(args.stack, { overrides: args.overrides });
  } catch (err) {
    console.error((err as Error).message);
    return 1;
  }
  if (run.error) {
    console.error(run.error.message);
    return 1;
  }
  const written = writePlan(run, args.out);
  if (args.json) {
    console.log(
      JSON.stringify(
        { stack: run.stack, outputs: redactSecrets(run.outputs), resources: redactSecrets(run.resources) },
        null,
        2,
      ),
    );
    return 0;
  }
  console.log(`Plan for stack ${run.stack}: ${run.resources.length} resources\n`);
  console.log(renderTree(run));
  console.log("\nBy type:");
  for (const [type, n] of countByType(run)) console.log(`  ${String(n).padStart(4)}  ${type}`);
  console.log("\nOutputs:");
  console.log(stringify(redactSecrets(run.outputs)).replace(/^/gm, "  ").trimEnd());
  console.log(
    `\nWrote ${path.relative(process.cwd(), path.join(args.out, "resources.json"))} and ${written.length - 1} manifests under ${path.relative(process.cwd(), path.join(args.out, "manifests"))}/`,
  );
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
