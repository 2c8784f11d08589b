/**
 * npm run policy:check -- <files or dirs> [--level baseline|restricted|all] [--version v1.NN] [--config FILE] [--json]
 *
 * Runs the pack's resource policies over plain Kubernetes YAML or JSON (e.g. `helm template` or
 * `kubectl get -o json` output; Lists flattened): each object gets the shape a policy sees under
 * Pulumi (type token from apiVersion and kind, props from the object). Files are read a document at
 * a time and checked in batches, so memory stays bounded. Pod Security is judged at --version, else
 * at the version the object's namespace (a Namespace in the input) enforces, else the newest. Prints
 * every violation and exits 1 when any is mandatory; 2 on bad arguments, on input it cannot read
 * (naming the file and document), or when nothing was checked.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { kubernetesDocuments } from "../lib/kubernetesYaml";
import type { Policies } from "@pulumi/policy";
import { isStackPolicy, policies as packPolicies } from "../policies/pack";
import { typeToken } from "../policies/lib/kubernetes";
import { minorOf } from "../policies/podSecurityControls";
import { podSecurityBaseline, podSecurityRestricted } from "../policies/workloads";
import { checkPackConfig, evaluatePack, readPackConfig, type PackConfig, type PolicyTarget } from "../lib/packRunner";

const USAGE =
  "usage: npm run policy:check -- <files or dirs> [--level baseline|restricted|all] [--version v1.NN] [--config FILE] [--json]";
const LEVELS = ["baseline", "restricted", "all"] as const;
type Level = (typeof LEVELS)[number];

export class UsageError extends Error {}

export function parseCheckArgs(argv: string[]): {
  paths: string[];
  level: Level;
  version?: string;
  config?: string;
  json: boolean;
} {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      level: { type: "string", default: "all" },
      version: { type: "string" },
      config: { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  if (!positionals.length) throw new UsageError(USAGE);
  const level = values.level as Level;
  if (!LEVELS.includes(level)) throw new UsageError(`--level ${values.level}: allowed: ${LEVELS.join(", ")}\n${USAGE}`);
  if (values.version !== undefined && minorOf(values.version) === undefined)
    throw new UsageError(`--version ${values.version}: allowed: v1.NN (such as v1.36) or latest\n${USAGE}`);
  return {
    paths: positionals,
    level,
    ...(values.version && { version: values.version }),
    ...(values.config && { config: values.config }),
    json: values.json,
  };
}

/** The resource policies a level runs: restricted includes baseline, as in Pod Security Admission. */
export function policiesFor(level: Level): Policies {
  if (level === "baseline") return [podSecurityBaseline];
  if (level === "restricted") return [podSecurityBaseline, podSecurityRestricted];
  return packPolicies.filter((p) => !isStackPolicy(p));
}

/**
 * YAML and JSON files under the given paths, folders searched recursively, in a stable order, each
 * file once however many links lead to it. Inside a folder, a link to a folder is not followed (as
 * kubectl's recursive walk does not), so a link loop ends the search; a link to a file is read.
 */
export function manifestFiles(paths: string[]): string[] {
  const seen = new Set<string>();
  const once = (file: string) => {
    const real = fs.realpathSync(file);
    if (seen.has(real)) return [];
    seen.add(real);
    return [file];
  };
  const walk = (dir: string): string[] =>
    fs
      .readdirSync(dir, { withFileTypes: true })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .flatMap((entry) => {
        const p = path.join(dir, entry.name);
        if (entry.isDirectory()) return walk(p);
        if (!/\.(ya?ml|json)$/.test(entry.name)) return [];
        if (entry.isFile()) return once(p);
        // A link: read when it leads to a file; a dangling one or one to a folder is passed over.
        const target = fs.statSync(p, { throwIfNoEntry: false });
        return target?.isFile() ? once(p) : [];
      });
  return paths.flatMap((p) => {
    if (!fs.existsSync(p)) throw new UsageError(`${p}: no such file or directory`);
    return fs.statSync(p).isDirectory() ? walk(p) : once(p);
  });
}

interface ManifestObject {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { name?: unknown; namespace?: unknown; labels?: Record<string, unknown> };
  items?: unknown;
}

/** Input that cannot be checked, named by file and document: exit 2. */
export class InputError extends Error {}

/** Where an object is in its file: "document 3", or "document 1, item 7" of a List. */
type Place = string;

/**
 * The documents of a file, one at a time, so a large file is never held parsed whole: YAML read
 * document by document as kubectl reads it (tools/kubernetesYaml.ts; excessive aliasing refused, so a
 * "billion laughs" fails instead of filling memory), JSON parsed whole (`kubectl get -o json`). A
 * List (kind: List or *List with items) yields its items.
 */
export function* documentsOf(file: string): Generator<{ place: Place; object: ManifestObject }> {
  const text = fs.readFileSync(file, "utf8");
  const flatten = function* (value: unknown, place: Place): Generator<{ place: Place; object: ManifestObject }> {
    if (value === null || value === undefined) return;
    const o = value as ManifestObject;
    const items =
      typeof o === "object" && typeof o.kind === "string" && o.kind.endsWith("List") && Array.isArray(o.items)
        ? (o.items as unknown[])
        : Array.isArray(value)
          ? value
          : undefined;
    if (!items) {
      yield { place, object: o };
      return;
    }
    // Each item let go once checked: a large List is never held twice over.
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      items[i] = undefined;
      yield* flatten(item, `${place}, item ${i + 1}`);
    }
  };
  if (file.endsWith(".json")) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new InputError(`${file}: not valid JSON: ${(err as Error).message}`);
    }
    yield* flatten(value, "document 1");
    return;
  }
  for (const doc of kubernetesDocuments(text)) {
    if ("error" in doc) throw new InputError(`${file}: document ${doc.index}: ${doc.error}`);
    yield* flatten(doc.value, `document ${doc.index}`);
  }
}

type Target = PolicyTarget & { file: string; place: Place; namespace?: string };

/** A document as a policy target; refuses one that is not a Kubernetes object, naming where it is. */
function toTarget(file: string, place: Place, object: ManifestObject): Target {
  if (typeof object !== "object" || Array.isArray(object))
    throw new InputError(`${file}: ${place}: not a Kubernetes object (a mapping with apiVersion and kind)`);
  if (typeof object.apiVersion !== "string" || typeof object.kind !== "string")
    throw new InputError(`${file}: ${place}: has no apiVersion or kind (both must be strings)`);
  const meta = object.metadata;
  if (meta !== undefined && (typeof meta !== "object" || meta === null || Array.isArray(meta)))
    throw new InputError(`${file}: ${place}: metadata must be a mapping`);
  const type = typeToken(object.apiVersion, object.kind);
  const name = typeof meta?.name === "string" ? meta.name : place.replace(/\W+/g, "-");
  return {
    file,
    place,
    type,
    name,
    ...(typeof meta?.namespace === "string" ? { namespace: meta.namespace } : {}),
    props: object as Record<string, unknown>,
    urn: `urn:pulumi:check::manifests::${type}::${file}#${place}`,
  };
}

/** Every object in a file as a policy target (for tests; the command streams). */
export function manifestTargets(file: string): Target[] {
  return [...documentsOf(file)].map(({ place, object }) => toTarget(file, place, object));
}

/** The Pod Security version each namespace in the input enforces (its enforce-version label). */
const ENFORCE_VERSION = "pod-security.kubernetes.io/enforce-version";

function namespaceVersions(files: string[]): Map<string, string> {
  const versions = new Map<string, string>();
  // Only a file that names the label can hold one: the rest are not parsed twice.
  for (const file of files.filter((f) => fs.readFileSync(f, "utf8").includes(ENFORCE_VERSION)))
    for (const { object } of documentsOf(file)) {
      const label = object.metadata?.labels?.[ENFORCE_VERSION];
      if (object.kind === "Namespace" && typeof object.metadata?.name === "string" && typeof label === "string")
        versions.set(object.metadata.name, label);
    }
  return versions;
}

const BATCH = 500;

export async function main(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parseCheckArgs>;
  let files: string[];
  let packConfig: PackConfig = {};
  try {
    args = parseCheckArgs(argv);
    files = manifestFiles(args.paths);
    if (args.config) packConfig = readPackConfig(args.config);
    // The config is checked against the whole pack, then narrowed to the policies this level runs.
    checkPackConfig(packPolicies, packConfig);
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  const policies = policiesFor(args.level);
  const narrowed = Object.fromEntries(
    Object.entries(packConfig).filter(([key]) => key === "all" || policies.some((p) => p.name === key)),
  );
  // Findings are printed as they come, never gathered: memory stays bounded however large the input.
  let printed = 0;
  const print = (finding: Record<string, string>) => {
    if (args.json)
      console.log(
        `${printed ? "," : `{"level":${JSON.stringify(args.level)},"violations":[`}${JSON.stringify(finding)}`,
      );
    else
      console.log(
        `${finding["file"]}: ${finding["object"]}: ${finding["policy"]} (${finding["enforcementLevel"]}): ${finding["message"]}`,
      );
    printed++;
  };
  const closeJson = () => (printed ? "]" : `{"level":${JSON.stringify(args.level)},"violations":[]`);
  let objects = 0;
  let mandatory = 0;
  let advisory = 0;
  const checkedFiles = new Set<string>();
  try {
    // Pod Security at the version asked for, else the one the object's namespace enforces, else the newest.
    const versions = args.version ? new Map<string, string>() : namespaceVersions(files);
    const versionOf = (t: Target) => args.version ?? (t.namespace && versions.get(t.namespace)) ?? "latest";
    const batches = new Map<string, Target[]>();
    const flush = async (version: string) => {
      const batch = batches.get(version) ?? [];
      batches.delete(version);
      if (!batch.length) return;
      const config = { ...narrowed };
      for (const p of ["pod-security-baseline", "pod-security-restricted"])
        if (policies.some((x) => x.name === p))
          config[p] =
            typeof config[p] === "string"
              ? { enforcementLevel: config[p], version }
              : { ...(config[p] as Record<string, unknown> | undefined), version };
      let report;
      try {
        report = await evaluatePack(policies, batch, config);
      } catch {
        // Find the document a policy could not read, and name it.
        for (const t of batch) {
          try {
            await evaluatePack(policies, [t], config);
          } catch (err) {
            throw new InputError(
              `${t.file}: ${t.place} (${t.type.split(":").pop()}/${t.name}): ${(err as Error).message}`,
            );
          }
        }
        throw new InputError("a policy failed on this input");
      }
      const byUrn = new Map(batch.map((t) => [t.urn, t]));
      for (const v of report.violations) {
        const t = byUrn.get(v.urn ?? "");
        print({
          file: t?.file ?? "",
          place: t?.place ?? "",
          object: `${v.type?.split(":").pop()}/${v.name}`,
          policy: v.policy,
          enforcementLevel: v.enforcementLevel,
          message: v.message,
        });
      }
      mandatory += report.mandatory;
      advisory += report.advisory;
    };
    for (const file of files) {
      for (const { place, object } of documentsOf(file)) {
        const target = toTarget(file, place, object);
        objects++;
        checkedFiles.add(file);
        const version = versionOf(target);
        const batch = batches.get(version) ?? [];
        batch.push(target);
        batches.set(version, batch);
        if (batch.length >= BATCH) await flush(version);
      }
    }
    for (const version of [...batches.keys()]) await flush(version);
  } catch (err) {
    const message = (err as Error).message;
    console.error(message);
    // --json stays one valid document when the input fails midway: what was found, then why it stopped.
    if (args.json) console.log(`${closeJson()},"error":${JSON.stringify(message)},"objects":${objects}}`);
    return 2;
  }
  if (objects === 0) {
    console.error(`no Kubernetes objects in ${args.paths.join(", ")} (YAML or JSON files): nothing was checked`);
    return 2;
  }
  if (args.json) {
    console.log(`${closeJson()},"objects":${objects},"mandatory":${mandatory},"advisory":${advisory}}`);
  } else {
    console.log(
      `${objects} objects in ${checkedFiles.size} files, level ${args.level}: ${mandatory} mandatory, ${advisory} advisory violations`,
    );
  }
  return mandatory > 0 ? 1 : 0;
}
