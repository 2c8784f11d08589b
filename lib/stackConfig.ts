/**
 * Reads a stack's config the way the Pulumi CLI hands it to the program: every key
 * namespaced, structured values as JSON, `secure:` values as secrets (offline they become
 * placeholders, since nobody here can decrypt them).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { isNode, parseDocument, visit } from "yaml";
import { stackConfigDirOf } from "../components/projectRoot";
import { escPlaceholders, isSecureValue, offlinePlaceholder, offlineValue } from "../components/config";

export interface StackConfigInput {
  project: string;
  /** `namespace:key` → value as the language host receives it (a string). */
  config: Record<string, string>;
  /** Keys whose values are secret. */
  secretKeys: string[];
  /** The ESC environments the stack file imports, which nothing offline can open. */
  environments: string[];
}

/**
 * The placeholder a `secure:` value becomes offline; never a real secret. A doc-rag key's declared
 * placeholder passes its schema (an https URL for a webhook, {} for a map of secrets), so the offline
 * plan validates as the real one would; a leaf set with `--secret --path` becomes a string.
 */
export function secretPlaceholder(key: string, path: string[] = []): string {
  const value = offlinePlaceholder(key, path);
  return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * A project or stack file, read as the Pulumi CLI reads it; an error names the file and the line.
 * A tag (`!!binary`, `!!set`) is refused: the CLI's YAML reader and this one would not agree on it.
 */
function readYaml(file: string): Record<string, unknown> {
  if (!fs.existsSync(file)) {
    throw new Error(`no such file: ${file}`);
  }
  const text = fs.readFileSync(file, "utf8");
  const doc = parseDocument(text, { prettyErrors: true });
  const [problem] = [...doc.errors, ...doc.warnings];
  if (problem) throw new Error(`${file}: ${problem.message.split("\n")[0]?.replace(/:$/, "")}; nothing was read`);
  let tagged: string | undefined;
  visit(doc, (_, node) => {
    if (!isNode(node) || !node.tag) return undefined;
    tagged = `${node.tag.replace("tag:yaml.org,2002:", "!!")} at line ${text.slice(0, node.range?.[0] ?? 0).split("\n").length}`;
    return visit.BREAK;
  });
  if (tagged)
    throw new Error(
      `${file}: the tag ${tagged} is not read the same way by the Pulumi CLI; write the value plainly; nothing was read`,
    );
  const value = doc.toJS() as unknown;
  if (value !== null && (typeof value !== "object" || Array.isArray(value)))
    throw new Error(`${file}: must be a mapping of settings; nothing was read`);
  return (value ?? {}) as Record<string, unknown>;
}

const PROTOTYPE_PARTS = new Set(["__proto__", "constructor", "prototype"]);

function hasSecureLeaf(value: unknown): boolean {
  return (
    isSecureValue(value) || (typeof value === "object" && value !== null && Object.values(value).some(hasSecureLeaf))
  );
}

/** A value as the CLI hands it to the program; a number YAML reads as infinite (1e309) is refused, not turned into null. */
function encode(value: unknown, key = "value"): string {
  if (typeof value === "string") return value;
  return JSON.stringify(value, (_, v: unknown) => {
    if (typeof v === "number" && !Number.isFinite(v)) throw new Error(`${key}: ${v} is not a finite number`);
    return v;
  });
}

/** `key` or `project:key`; a key the Pulumi CLI cannot parse (more than one colon) is refused, as the CLI does. */
function namespaced(project: string, key: string): string {
  const full = key.includes(":") ? key : `${project}:${key}`;
  const [namespace, name, ...rest] = full.split(":");
  if (!namespace || !name || rest.length > 0) {
    throw new Error(
      `config key ${JSON.stringify(key)}: must be <namespace>:<name> with one colon, as the Pulumi CLI requires; nothing was set`,
    );
  }
  return full;
}

/** A path step: a key, or an index written `[N]`. */
type Step = string | number;

/**
 * Sets `a.b[0].c` inside a structured value, as `pulumi config set --path` does: `[N]` indexes a list
 * (a missing one is created as a list), and an index may at most append to it.
 */
function setPath(target: Record<string, unknown>, steps: Step[], value: unknown, key: string): void {
  let node: Record<string, unknown> | unknown[] = target;
  steps.forEach((step, i) => {
    const last = i === steps.length - 1;
    const next = steps[i + 1];
    if (typeof step === "number") {
      if (!Array.isArray(node)) throw new Error(`--config ${key}: [${step}] indexes a list, and this is not one`);
      if (step > node.length)
        throw new Error(`--config ${key}: index ${step} is past the end of a list of ${node.length}; nothing was set`);
    } else if (Array.isArray(node)) {
      throw new Error(`--config ${key}: ${JSON.stringify(step)} names a key of a list; index it with [N]`);
    }
    const holder = node as Record<string | number, unknown>;
    if (last) {
      holder[step] = value;
      return;
    }
    const child = holder[step];
    if (typeof child !== "object" || child === null) holder[step] = typeof next === "number" ? [] : {};
    node = holder[step] as Record<string, unknown> | unknown[];
  });
}

/** `a.b["c.d"][0]` → ["a", "b", "c.d", 0], the path syntax of `pulumi config set --path`. */
function splitPath(key: string): [string, ...Step[]] {
  const parts: Step[] = [...key.matchAll(/([^.[\]]+)|\["([^"]*)"\]|\[(\d+)\]/g)].map((m) =>
    m[3] !== undefined ? Number(m[3]) : (m[1] ?? m[2] ?? ""),
  );
  if (parts.length === 0 || typeof parts[0] !== "string") {
    throw new Error(`--config: empty key in ${JSON.stringify(key)}`);
  }
  // Refused before anything is set: walking into __proto__ would change every object in the process.
  const proto = parts.map((p) => String(p).replace(/^[^:]*:/, "")).find((p) => PROTOTYPE_PARTS.has(p));
  if (proto !== undefined) {
    throw new Error(`--config ${key}: ${JSON.stringify(proto)} can never be a config key; nothing was set`);
  }
  return parts as [string, ...Step[]];
}

/** A `--config` value: JSON where it parses (numbers, booleans, objects), else the string. */
function overrideValue(raw: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return raw;
  }
  // JSON.parse reads 1e309 as Infinity, which JSON then writes as null: refuse it as written.
  if (typeof value === "number" && !Number.isFinite(value)) {
    throw new Error(`--config value ${raw}: is not a finite number; nothing was set`);
  }
  return value;
}

/**
 * Applies `key=value` overrides for one run, like a what-if `pulumi config set`. A key may
 * name a path inside an object key: `doc-rag:namespaces.data.name=x`. With `secret`, the
 * keys become secret, like `pulumi config set --secret`.
 */
export function applyOverrides(
  input: StackConfigInput,
  overrides: readonly string[],
  options: { secret?: boolean } = {},
): StackConfigInput {
  const config = { ...input.config };
  const secretKeys = [...input.secretKeys];
  for (const override of overrides) {
    const eq = override.indexOf("=");
    if (eq <= 0) {
      throw new Error(`--config takes key=value, got ${JSON.stringify(override)}`);
    }
    const [first, ...rest] = splitPath(override.slice(0, eq));
    const top = namespaced(input.project, first);
    const raw = override.slice(eq + 1);
    if (options.secret && !secretKeys.includes(top)) secretKeys.push(top);
    if (rest.length === 0) {
      // Set whole without --secret, a key is plain again, as `pulumi config set` leaves it.
      if (!options.secret && secretKeys.includes(top)) secretKeys.splice(secretKeys.indexOf(top), 1);
      config[top] = raw;
      continue;
    }
    const current = config[top] === undefined ? (typeof rest[0] === "number" ? [] : {}) : overrideValue(config[top]);
    if (typeof current !== "object" || current === null) {
      throw new Error(`--config ${override}: ${top} is not an object, so it has no path ${rest.join(".")}`);
    }
    setPath(current as Record<string, unknown>, rest, overrideValue(raw), override);
    config[top] = JSON.stringify(current);
  }
  return { ...input, config, secretKeys };
}

/**
 * Why `stack` is not a stack name the Pulumi CLI accepts (its rule: 1–100 characters, each
 * alphanumeric, `-`, `_` or `.`), in the CLI's words; undefined when it is one. A name is never a path.
 */
export function stackNameProblem(stack: string): string | undefined {
  if (stack === "") return "a stack name may not be empty";
  if (stack.length > 100) return "a stack name cannot exceed 100 characters";
  const bad = /[^A-Za-z0-9_.-]/.exec(stack);
  return bad
    ? `a stack name may only contain alphanumeric, hyphens, underscores, or periods: invalid character ${JSON.stringify(bad[0])} at position ${bad.index}`
    : undefined;
}

/** The project name and the config of `Pulumi.<stack>.yaml` in the project's stack config directory. */
export function readStackConfig(root: string, stack: string): StackConfigInput {
  const problem = stackNameProblem(stack);
  if (problem) throw new Error(`stack ${JSON.stringify(stack)}: ${problem}; nothing was read or written`);
  const projectFile = readYaml(path.join(root, "Pulumi.yaml"));
  const project = projectFile["name"];
  if (typeof project !== "string") {
    throw new Error(`${path.join(root, "Pulumi.yaml")} has no project name`);
  }
  const stackDir = stackConfigDirOf(root, projectFile);
  const stackFile = path.join(stackDir, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(stackFile)) {
    const known = fs
      .readdirSync(stackDir)
      .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
      .filter((s): s is string => Boolean(s));
    throw new Error(`unknown stack ${JSON.stringify(stack)}: no ${stackFile}; stacks here: ${known.join(", ")}`);
  }
  const file = readYaml(stackFile);
  const entries = (file["config"] ?? {}) as Record<string, unknown>;
  const environments = Array.isArray(file["environment"]) ? file["environment"].map(String) : [];
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [rawKey, value] of Object.entries(entries)) {
    const key = namespaced(project, rawKey);
    if (hasSecureLeaf(value)) {
      // The whole value, or leaves set with `--secret --path`: placeholders that pass the key's
      // schema; Pulumi marks the whole key secret.
      config[key] = encode(offlineValue(key, value, isSecureValue), key);
      secretKeys.push(key);
    } else {
      config[key] = encode(value, key);
    }
  }
  // What the imported ESC environments hold (the release, the alert receivers) is out of reach here.
  for (const { key, secret, value } of environments.flatMap((e) => escPlaceholders(e, stack))) {
    if (config[key] !== undefined) continue;
    config[key] = encode(value, key);
    if (secret) secretKeys.push(key);
  }
  return { project, config, secretKeys, environments };
}
