/**
 * How Kubernetes reads a manifest's YAML, for every tool that reads manifests (policy:check, render).
 * kubectl splits a file into documents at lines that are exactly `---`, and the API server's
 * clients parse each with go-yaml v2, i.e. YAML 1.1: `yes`, `on`, `Y`, `off`… are booleans,
 * `0x1f`, `017` and `1_000` are numbers, `<<` merges a mapping. A tool that read YAML 1.2 would see
 * the string "yes" where the cluster sees `true`, and wave through a privileged pod. sigs.k8s.io/yaml
 * keeps timestamps as strings and go-yaml v2 has no base-60 numbers (`1:00`): both stay strings.
 * What cannot be read the same way (an unknown tag such as `!!binary`, a second document inside a
 * chunk kubectl would not split) is refused, never guessed.
 *
 * js-yaml builds plain values without a syntax tree: a 50 MB document takes a few hundred MB,
 * where a parser that keeps the tree takes gigabytes.
 */
import { FAILSAFE_SCHEMA, load, Type } from "js-yaml";

/** go-yaml v2's table of plain scalars it resolves by spelling (resolve.go). */
const BY_SPELLING = new Map<string, unknown>([
  ...["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"].map((s) => [s, true] as const),
  ...["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"].map((s) => [s, false] as const),
  ...["", "~", "null", "Null", "NULL"].map((s) => [s, null] as const),
  ...[".nan", ".NaN", ".NAN"].map((s) => [s, NaN] as const),
  ...[".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"].map((s) => [s, Infinity] as const),
  ...["-.inf", "-.Inf", "-.INF"].map((s) => [s, -Infinity] as const),
]);

const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;

/** Go's strconv.ParseInt(s, 0, 64) and ParseUint: sign, then 0x, 0o, 0b, a leading 0 for octal, or decimal. */
function goInteger(text: string): number | undefined {
  const m = /^([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/.exec(text);
  if (!m) return undefined;
  const [, sign, digits = ""] = m;
  const radix = /^0[xX]/.test(digits)
    ? 16
    : /^0[oO]/.test(digits)
      ? 8
      : /^0[bB]/.test(digits)
        ? 2
        : /^0./.test(digits)
          ? 8
          : 10;
  const body = radix === 10 || (radix === 8 && !/^0[oO]/.test(digits)) ? digits : digits.slice(2);
  const value = parseInt(body || "0", radix);
  if (sign === "-" && value === 0) return 0;
  return sign === "-" ? -value : value;
}

/** What go-yaml v2 makes of a plain scalar: its resolve(), by the first character's hint. */
export function resolvePlain(text: string): unknown {
  if (BY_SPELLING.has(text)) return BY_SPELLING.get(text);
  const first = text[0] ?? "";
  if (first === ".") {
    const value = Number(text);
    return /^\.[0-9]/.test(text) && !Number.isNaN(value) ? value : text;
  }
  if (!/[-+0-9]/.test(first)) return text;
  const plain = text.replaceAll("_", "");
  const integer = goInteger(plain);
  if (integer !== undefined) return integer;
  if (YAML_STYLE_FLOAT.test(plain)) return Number(plain);
  return text;
}

/** Every plain scalar is resolved by go-yaml's rules; a quoted one stays a string (js-yaml never resolves those). */
const goYamlScalar = new Type("tag:yaml.org,2002:go-yaml-plain", {
  kind: "scalar",
  resolve: (text: string) => resolvePlain(text) !== text,
  construct: (text: string) => resolvePlain(text),
});

/** Explicit `!!bool`, `!!int`, `!!float` and `!!null`, as go-yaml reads them. */
const explicit = (tag: string, accepts: (v: unknown) => boolean) =>
  new Type(`tag:yaml.org,2002:${tag}`, {
    kind: "scalar",
    resolve: (text: string) => accepts(resolvePlain(text)),
    construct: (text: string) => resolvePlain(text),
  });

/** `<<` as a merge key (the loader merges under this tag). */
const merge = new Type("tag:yaml.org,2002:merge", { kind: "scalar", resolve: (text: string) => text === "<<" });

export const KUBERNETES_SCHEMA = FAILSAFE_SCHEMA.extend({
  implicit: [merge, goYamlScalar],
  explicit: [
    explicit("bool", (v) => typeof v === "boolean"),
    explicit("int", (v) => Number.isInteger(v)),
    explicit("float", (v) => typeof v === "number"),
    explicit("null", (v) => v === null),
  ],
});

/** Nodes an alias may expand a document to, beyond its own size, before it is refused (as go-yaml refuses excessive aliasing). */
const ALIAS_EXPANSION = 1_000_000;

/** Nodes in a value counted once each (aliases share them), and counted as expanded, stopping past `limit`. */
function nodeCounts(value: unknown, limit: number): { unique: number; expanded: number } {
  let unique = 0;
  const sizes = new Map<object, number>();
  const size = (v: unknown): number => {
    if (typeof v !== "object" || v === null) return 1;
    const known = sizes.get(v);
    if (known !== undefined) return known;
    let total = 1;
    for (const child of Object.values(v)) {
      const childSize = size(child);
      if (typeof child !== "object" || child === null) unique++;
      total = Math.min(total + childSize, limit + 1);
    }
    unique++;
    sizes.set(v, total);
    return total;
  };
  return { expanded: size(value), unique };
}

/** A document kubectl would read, or why it cannot be read the same way. */
export type KubernetesDocument =
  { index: number; line: number; value: unknown } | { index: number; line: number; error: string };

/**
 * The documents of a manifest file's text, one at a time and in order, split as kubectl splits them
 * (lines that are `---` and trailing space); empty ones skipped. `index` counts from 1, `line` is
 * where the document starts.
 */
export function* kubernetesDocuments(text: string): Generator<KubernetesDocument> {
  const separator = /^---[ \t\r]*$/gm;
  const lineAt = (offset: number, from: number, line: number) => {
    let n = line;
    for (let i = text.indexOf("\n", from); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) n++;
    return n;
  };
  let start = 0;
  let line = 1;
  let index = 0;
  const ends = [...text.matchAll(separator)].map((m) => [m.index, m.index + m[0].length + 1] as const);
  for (const [end, next] of [...ends, [text.length, text.length] as const]) {
    const chunk = text.slice(start, end);
    const at = line;
    line = lineAt(next, start, line);
    start = next;
    index++;
    let value: unknown;
    try {
      value = load(chunk, { schema: KUBERNETES_SCHEMA });
    } catch (err) {
      const message = (err as Error).message.split("\n")[0] ?? "";
      const mark = (err as { mark?: { line?: number } }).mark;
      yield { index, line: at, error: `line ${at + (mark?.line ?? 0)}: ${message.replace(/ \(\d+:\d+\)$/, "")}` };
      continue;
    }
    if (value === null || value === undefined) continue;
    const { unique, expanded } = nodeCounts(value, Number.MAX_SAFE_INTEGER);
    if (expanded > unique + ALIAS_EXPANSION) {
      yield { index, line: at, error: "excessive aliasing: its aliases expand it past a million nodes" };
      continue;
    }
    yield { index, line: at, value };
  }
}
