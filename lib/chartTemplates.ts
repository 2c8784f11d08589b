/**
 * Which values a chart's templates read, found in the templates themselves: `.Values.a.b` and
 * `index .Values "a" "b"`, fields read relative to a `with` or `range` over values, and values
 * handed whole to something the reader cannot follow (`toYaml`, `tpl`, `include`, a `range`…),
 * below which every key counts as read. Subcharts' templates read under their name or alias.
 * Used by the render gate's dead-value check with a chart that has its templates.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

/** A path of keys; "*" stands for any key or index (a `range` over a map or list). */
type KeyPath = string[];

export interface TemplateReads {
  /** Paths read exactly. */
  exact: KeyPath[];
  /** Paths read whole: everything below them is read. */
  whole: KeyPath[];
  /** Subcharts whose templates could not be read (a packed archive): everything below them is read. */
  opaque: string[];
}

/** Functions and keywords that take a value somewhere this reader does not follow it. */
const WHOLE =
  /\b(toYaml|toJson|toPrettyJson|toRawJson|tpl|include|template|merge|mergeOverwrite|deepCopy|dict|list|append|concat|range|keys|values|pluck|hasKey|get|default|required|kindIs|typeOf|empty|len|b64enc|fromYaml|omit|pick)\b/;

/** The actions of a template, in order: the text between `{{` and `}}`, trim markers dropped. */
function actions(text: string): string[] {
  return [...text.matchAll(/\{\{-?\s*([\s\S]*?)\s*-?\}\}/g)]
    .map((m) => (m[1] ?? "").trim())
    .filter((a) => !a.startsWith("/*"));
}

/** `.a.b.c` chains in an expression that are fields of `.` (not of `$x`, `.Values`, a call). */
const FIELD_CHAIN = /(?<![\w$)\].])\.([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)/g;

export function templateReads(chartDir: string, prefix: KeyPath = []): TemplateReads {
  const reads: TemplateReads = { exact: [], whole: [], opaque: [] };
  const templates = path.join(chartDir, "templates");
  const files = fs.existsSync(templates)
    ? fs.readdirSync(templates, { recursive: true, encoding: "utf8" }).map((f) => path.join(templates, f))
    : [];
  for (const file of files.filter((f) => fs.statSync(f).isFile()))
    readTemplate(fs.readFileSync(file, "utf8"), prefix, reads);
  // Subcharts read their values under their name (or the parent's alias for them), and global.
  const subcharts = path.join(chartDir, "charts");
  const meta = fs.existsSync(path.join(chartDir, "Chart.yaml"))
    ? ((parse(fs.readFileSync(path.join(chartDir, "Chart.yaml"), "utf8")) ?? {}) as {
        dependencies?: { name: string; alias?: string }[];
      })
    : {};
  for (const entry of fs.existsSync(subcharts) ? fs.readdirSync(subcharts) : []) {
    const dir = path.join(subcharts, entry);
    const name = entry.replace(/-\d[\w.+-]*\.tgz$/, "");
    const key = meta.dependencies?.find((d) => d.name === name)?.alias ?? name;
    if (!fs.statSync(dir).isDirectory()) {
      reads.opaque.push([...prefix, key].join("."));
      continue;
    }
    const sub = templateReads(dir, [...prefix, key]);
    reads.exact.push(...sub.exact);
    reads.whole.push(...sub.whole);
    reads.opaque.push(...sub.opaque);
  }
  // A dependency Helm would fetch (not in charts/): nothing of it can be read here.
  for (const d of meta.dependencies ?? []) {
    const key = d.alias ?? d.name;
    if (!fs.existsSync(subcharts) || !fs.readdirSync(subcharts).some((e) => e === d.name || e.startsWith(`${d.name}-`)))
      reads.opaque.push([...prefix, key].join("."));
  }
  return reads;
}

/** Reads one template file's actions, tracking what `.` stands for through `with` and `range`. */
function readTemplate(text: string, prefix: KeyPath, reads: TemplateReads): void {
  // What `.` is in each open block: a values path, or undefined when it is not one (a helper's argument, a dict).
  const stack: (KeyPath | undefined)[] = [undefined];
  const variables = new Map<string, KeyPath>();
  for (const action of actions(text)) {
    const dot = stack[stack.length - 1];
    const keyword = /^(if|with|range|define|block|else|end)\b/.exec(action)?.[1];
    // `with` only rebinds `.`: what is read below it is judged field by field.
    const whole = WHOLE.test(keyword === "with" ? action.replace(/^with\b/, "") : action);
    // Absolute references: .Values.a.b, $.Values.a.b, $root.Values…, .root.Values…, index .Values "a" "b".
    const found: { at: KeyPath; whole: boolean }[] = [];
    for (const m of action.matchAll(/(?:\$\w*|\.\w+)?\.Values((?:\.[A-Za-z_]\w*)*)(?!\w)/g)) {
      const at = [...prefix, ...(m[1] ?? "").split(".").filter(Boolean)];
      found.push({ at, whole });
    }
    for (const m of action.matchAll(/index\s+(?:\$\w*)?\.Values((?:\.[A-Za-z_]\w*)*)((?:\s+"[^"]+")+)/g)) {
      const keys = [...(m[2] ?? "").matchAll(/"([^"]+)"/g)].map((k) => k[1] ?? "");
      found.push({ at: [...prefix, ...(m[1] ?? "").split(".").filter(Boolean), ...keys], whole });
    }
    // Variables bound to values: $x := .Values.a, and fields read through them.
    for (const [name, at] of variables)
      for (const m of action.matchAll(new RegExp(`\\${name}((?:\\.[A-Za-z_]\\w*)*)(?!\\w)`, "g")))
        found.push({ at: [...at, ...(m[1] ?? "").split(".").filter(Boolean)], whole: whole && !m[1] });
    // Fields of `.` when `.` is a values path: `.enabled` inside `with .Values.x`.
    if (dot)
      for (const m of action.replace(/"[^"]*"/g, '""').matchAll(FIELD_CHAIN)) {
        const chain = (m[1] ?? "").split(".");
        if (chain[0] === "Values" || chain[0] === "Release" || chain[0] === "Chart" || chain[0] === "Capabilities")
          continue;
        found.push({ at: [...dot, ...chain], whole });
      }
    // `.` itself handed on (toYaml ., include "x" .) while it is a values path: read whole.
    if (dot && whole && /(^|[\s(|,])\.(?=[\s)|,]|$)/.test(action.replace(/"[^"]*"/g, '""')))
      found.push({ at: dot, whole: true });
    const assigned = /^(?:range\s+)?(\$\w+)\s*(?:,\s*(\$\w+))?\s*:?=\s*(.*)$/.exec(action.replace(/^with\s+/, ""));

    for (const f of found) (f.whole ? reads.whole : reads.exact).push(f.at);

    if (keyword === "end") {
      if (stack.length > 1) stack.pop();
      continue;
    }
    if (keyword === "else") continue;
    if (keyword === "if" || keyword === "define" || keyword === "block") {
      stack.push(keyword === "if" ? dot : undefined);
      continue;
    }
    if (keyword === "with" || keyword === "range") {
      // The new `.`: the one values path the pipeline names, if it names exactly one.
      const target = found.length === 1 ? found[0]?.at : undefined;
      const next = target && keyword === "range" ? [...target, "*"] : target;
      if (assigned?.[1] && next) variables.set(assigned[2] ?? assigned[1], next);
      stack.push(next);
      continue;
    }
    if (assigned?.[1] && found.length === 1 && found[0]) variables.set(assigned[1], found[0].at);
  }
}

const matches = (pattern: KeyPath, keys: KeyPath) =>
  pattern.length <= keys.length && pattern.every((p, i) => p === "*" || p === keys[i]);

/** Whether the templates read the value at `keys` (directly, below a whole read, or above a read). */
export function readsValue(reads: TemplateReads, keys: KeyPath): "read" | "above" | "unread" {
  const opaque = reads.opaque.map((o) => o.split("."));
  if (opaque.some((o) => matches(o, keys))) return "read";
  if (reads.whole.some((w) => matches(w, keys))) return "read";
  // A map some read path goes through: its own keys are judged one by one.
  const through = (r: KeyPath) => r.length > keys.length && keys.every((k, i) => r[i] === "*" || r[i] === k);
  if ([...reads.exact, ...reads.whole].some(through)) return "above";
  // Read as it is (a leaf, or a map only tested or printed): nothing below it is judged.
  if (reads.exact.some((e) => e.length === keys.length && matches(e, keys))) return "read";
  return "unread";
}
