/**
 * npm run policy:check -- <files or dirs> [--level baseline|restricted|all] [--config FILE] [--json]
 *
 * Runs the pack's resource policies over plain Kubernetes YAML (e.g. `helm template` output):
 * each object gets the shape a policy sees under Pulumi (type token from apiVersion and kind,
 * props from the object). Prints every violation and exits 1 when any is mandatory.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { parseAllDocuments } from "yaml";
import type { Policies } from "@pulumi/policy";
import { isStackPolicy, policies as packPolicies } from "../policies/pack";
import { typeToken } from "../policies/lib/kubernetes";
import { podSecurityBaseline, podSecurityRestricted } from "../policies/workloads";
import {
  checkPackConfig,
  evaluatePack,
  readPackConfig,
  type PackConfig,
  type PolicyTarget,
} from "../test/harness/policies";

const USAGE =
  "usage: npm run policy:check -- <files or dirs> [--level baseline|restricted|all] [--config FILE] [--json]";
const LEVELS = ["baseline", "restricted", "all"] as const;
type Level = (typeof LEVELS)[number];

export class UsageError extends Error {}

export function parseCheckArgs(argv: string[]): { paths: string[]; level: Level; config?: string; json: boolean } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      level: { type: "string", default: "all" },
      config: { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  if (!positionals.length) throw new UsageError(USAGE);
  const level = values.level as Level;
  if (!LEVELS.includes(level)) throw new UsageError(`--level ${values.level}: allowed: ${LEVELS.join(", ")}\n${USAGE}`);
  return { paths: positionals, level, ...(values.config && { config: values.config }), json: values.json };
}

/** The resource policies a level runs: restricted includes baseline, as in Pod Security Admission. */
export function policiesFor(level: Level): Policies {
  if (level === "baseline") return [podSecurityBaseline];
  if (level === "restricted") return [podSecurityBaseline, podSecurityRestricted];
  return packPolicies.filter((p) => !isStackPolicy(p));
}

/** YAML files under the given paths, folders searched recursively, in a stable order. */
export function manifestFiles(paths: string[]): string[] {
  return paths.flatMap((p) => {
    if (!fs.existsSync(p)) throw new UsageError(`${p}: no such file or directory`);
    if (!fs.statSync(p).isDirectory()) return [p];
    return fs
      .readdirSync(p, { recursive: true, encoding: "utf8" })
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()
      .map((f) => path.join(p, f))
      .filter((f) => fs.statSync(f).isFile());
  });
}

interface ManifestObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  items?: ManifestObject[];
}

/** Every object in a file (multi-document YAML, `kind: List` flattened) as a policy target. */
export function manifestTargets(file: string): (PolicyTarget & { file: string })[] {
  const docs = parseAllDocuments(fs.readFileSync(file, "utf8"));
  const objects: ManifestObject[] = [];
  for (const doc of docs) {
    const [error] = doc.errors;
    if (error) throw new UsageError(`${file}: ${error.message}`);
    const value = doc.toJS() as ManifestObject | null;
    if (!value) continue;
    objects.push(...(value.kind?.endsWith("List") && Array.isArray(value.items) ? value.items : [value]));
  }
  return objects.map((object, i) => {
    if (!object.apiVersion || !object.kind)
      throw new UsageError(`${file}: document ${i + 1} has no apiVersion or kind`);
    const type = typeToken(object.apiVersion, object.kind);
    const name = object.metadata?.name ?? `document-${i + 1}`;
    return {
      file,
      type,
      name,
      props: object as Record<string, unknown>,
      urn: `urn:pulumi:check::manifests::${type}::${file}#${i}`,
    };
  });
}

export async function main(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parseCheckArgs>;
  let targets: (PolicyTarget & { file: string })[];
  let packConfig: PackConfig = {};
  try {
    args = parseCheckArgs(argv);
    targets = manifestFiles(args.paths).flatMap(manifestTargets);
    if (args.config) packConfig = readPackConfig(args.config);
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  const policies = policiesFor(args.level);
  let report;
  try {
    // The config is checked against the whole pack, then narrowed to the policies this level runs.
    checkPackConfig(packPolicies, packConfig);
    report = await evaluatePack(
      policies,
      targets,
      Object.fromEntries(
        Object.entries(packConfig).filter(([key]) => key === "all" || policies.some((p) => p.name === key)),
      ),
    );
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  const fileOf = new Map(targets.map((t) => [t.urn, t.file]));
  const findings = report.violations.map((v) => ({
    file: fileOf.get(v.urn ?? ""),
    object: `${v.type?.split(":").pop()}/${v.name}`,
    policy: v.policy,
    enforcementLevel: v.enforcementLevel,
    message: v.message,
  }));
  if (args.json) {
    console.log(
      JSON.stringify(
        {
          level: args.level,
          objects: targets.length,
          mandatory: report.mandatory,
          advisory: report.advisory,
          violations: findings,
        },
        null,
        2,
      ),
    );
  } else {
    for (const f of findings) console.log(`${f.file}: ${f.object}: ${f.policy} (${f.enforcementLevel}): ${f.message}`);
    const files = new Set(targets.map((t) => t.file)).size;
    console.log(
      `${targets.length} objects in ${files} files, level ${args.level}: ${report.mandatory} mandatory, ${report.advisory} advisory violations`,
    );
  }
  return report.mandatory > 0 ? 1 : 0;
}
