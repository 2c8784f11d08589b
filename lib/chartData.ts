/**
 * Upstream chart data (../shared/charts, or $CHART_DATA): for each chart at each published
 * version, its values.yaml, values.schema.json, subcharts' values and the CRDs it installs. The
 * truth the program's chart values and custom resources are checked against, read in place and
 * never copied into the project.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv, { type ValidateFunction } from "ajv";
import { parse } from "yaml";
import { kubernetesDocuments } from "./kubernetesYaml";
import { readsValue, templateReads } from "./chartTemplates";
import { chartVersionDir, type Chart } from "../components/charts";
import { PROJECT_ROOT } from "./paths";

export const CHART_DATA = process.env["CHART_DATA"] ?? path.resolve(PROJECT_ROOT, "..", "shared", "charts");

/**
 * Keys under which a chart accepts anything (free-form maps and Kubernetes objects the chart
 * passes through), at any depth, so what lies below them is not checked against values.yaml;
 * each entry says why.
 */
export const FREE_FORM_VALUES: Record<string, string> = {
  podAnnotations: "annotations added to the pods, any keys",
  podLabels: "labels added to the pods, any keys",
  annotations: "annotations, any keys",
  labels: "labels, any keys",
  commonLabels: "labels added to every object, any keys",
  additionalLabels: "labels added to an object, any keys",
  nodeSelector: "node labels, any keys",
  resources: "a Kubernetes ResourceRequirements",
  securityContext: "a Kubernetes SecurityContext",
  podSecurityContext: "a Kubernetes PodSecurityContext",
  containerSecurityContext: "a Kubernetes SecurityContext",
  affinity: "a Kubernetes Affinity",
  tolerations: "Kubernetes Tolerations",
  extraEnv: "container environment entries",
  env: "container environment entries",
  extraArgs: "container arguments",
  extraVolumes: "Kubernetes Volumes",
  extraVolumeMounts: "Kubernetes VolumeMounts",
  extraObjects: "Kubernetes objects rendered as given",
  livenessProbe: "a Kubernetes Probe",
  readinessProbe: "a Kubernetes Probe",
  startupProbe: "a Kubernetes Probe",
  storageSpec: "a Prometheus StorageSpec",
  storage: "a Kubernetes storage spec",
  spec: "a custom resource's spec, passed through",
  config: "an application's own configuration document",
  rules: "rule definitions",
  customRules: "Falco rules files by name",
  dashboards: "Grafana dashboards by provider",
  additionalPrometheusRulesMap: "PrometheusRule groups by name",
};

/** The folder of a chart's data at a version, or undefined when there is none. */
export function chartDataDir(chart: Chart): string | undefined {
  const dir = chartVersionDir(CHART_DATA, chart);
  return fs.existsSync(dir) ? dir : undefined;
}

type Values = Record<string, unknown>;
const isMap = (v: unknown): v is Values => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The chart's values.yaml, with each subchart's values.yaml under its name or alias. A dependency
 * whose values cannot be read here (packed as an archive) is free-form: nothing below it is checked.
 */
export function chartDefaults(dir: string): Values {
  const values = (parse(fs.readFileSync(path.join(dir, "values.yaml"), "utf8")) ?? {}) as Values;
  const meta = parse(fs.readFileSync(path.join(dir, "Chart.yaml"), "utf8")) as {
    dependencies?: { name: string; alias?: string }[];
  };
  const subcharts = path.join(dir, "charts");
  for (const sub of fs.existsSync(subcharts) ? fs.readdirSync(subcharts) : []) {
    const file = path.join(subcharts, sub, "values.yaml");
    if (!fs.existsSync(file)) continue;
    const key = meta.dependencies?.find((d) => d.name === sub)?.alias ?? sub;
    const own = values[key];
    values[key] = { ...((parse(fs.readFileSync(file, "utf8")) ?? {}) as Values), ...(isMap(own) ? own : {}) };
  }
  for (const dependency of meta.dependencies ?? []) {
    const key = dependency.alias ?? dependency.name;
    if (!(key in values)) values[key] = {};
  }
  return values;
}

/**
 * The values Helm renders a chart with: the chart's defaults with `values` merged over them, maps
 * key by key, where a null deletes the default (Helm's coalescing).
 */
export function mergedValues(defaults: Values, values: Values): Values {
  const removed = new Set(Object.keys(values).filter((key) => values[key] === null));
  const out: Values = Object.fromEntries(Object.entries(defaults).filter(([key]) => !removed.has(key)));
  for (const [key, value] of Object.entries(values)) {
    if (value === null) continue;
    out[key] = isMap(value) && isMap(out[key]) ? mergedValues(out[key] as Values, value) : value;
  }
  return out;
}

/** Paths of maps that set both minAvailable and maxUnavailable: a PodDisruptionBudget the API refuses. */
export function conflictingDisruptionBudgets(values: unknown, at: string[] = []): string[] {
  if (!isMap(values)) return [];
  const set = (key: string) => values[key] !== undefined && values[key] !== null && values[key] !== "";
  const here = set("minAvailable") && set("maxUnavailable") ? [at.join(".") || "(top)"] : [];
  return [...here, ...Object.entries(values).flatMap(([k, v]) => conflictingDisruptionBudgets(v, [...at, k]))];
}

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
  patternProperties?: Record<string, SchemaNode>;
  $ref?: string;
}

/** Whether values.schema.json declares `key` at this level (or allows any key). */
function schemaAllows(schema: SchemaNode | undefined, key: string): SchemaNode | "any" | undefined {
  if (!schema || schema.$ref) return schema ? "any" : undefined;
  if (schema.properties?.[key]) return schema.properties[key];
  if (schema.patternProperties && Object.keys(schema.patternProperties).some((p) => new RegExp(p).test(key)))
    return "any";
  if (schema.additionalProperties === true || isMap(schema.additionalProperties)) return "any";
  return undefined;
}

/**
 * Keys a chart documents only as commented-out examples (`# configSecret:`), which its templates
 * read when set: charts document optional keys that way. Matched by name, at any depth.
 */
function commentedKeys(dir: string): Set<string> {
  const text = fs.readFileSync(path.join(dir, "values.yaml"), "utf8");
  return new Set([...text.matchAll(/^\s*#+\s*([A-Za-z_][\w-]*):(?:\s|$)/gm)].map((m) => m[1] ?? ""));
}

/**
 * Every key path in `values` that the chart does not read: not in its values.yaml (or a
 * subchart's), not documented there as a commented-out example, not declared by its
 * values.schema.json, and not under a free-form path.
 */
export function deadValuePaths(values: Values, dir: string): string[] {
  if (fs.existsSync(path.join(dir, "templates"))) return deadByTemplates(values, dir);
  return deadByValuesFile(values, dir);
}

/**
 * With the chart's templates at hand (the chart cache the render gate uses): a key is live where a
 * template reads it, where something reads it whole above it (lib/chartTemplates.ts), where the
 * values schema declares it, or where Chart.yaml makes a dependency depend on it; `global` is
 * Helm's own. Every other key is dead, whatever its name.
 */
function deadByTemplates(values: Values, dir: string): string[] {
  const reads = templateReads(dir);
  const meta = (parse(fs.readFileSync(path.join(dir, "Chart.yaml"), "utf8")) ?? {}) as {
    dependencies?: { condition?: string }[];
  };
  for (const d of meta.dependencies ?? [])
    for (const condition of (d.condition ?? "").split(",").filter(Boolean))
      reads.exact.push(condition.trim().split("."));
  reads.whole.push(["global"]);
  const schemaFile = path.join(dir, "values.schema.json");
  const schema = fs.existsSync(schemaFile)
    ? (JSON.parse(fs.readFileSync(schemaFile, "utf8")) as SchemaNode)
    : undefined;
  const dead: string[] = [];
  const walk = (value: Values, node: SchemaNode | "any" | undefined, at: string[]) => {
    for (const [key, child] of Object.entries(value)) {
      const here = [...at, key];
      const read = readsValue(reads, here);
      const declared = node === "any" ? "any" : schemaAllows(node, key);
      if (read === "read" || declared === "any") continue;
      if (read === "unread" && !declared) dead.push(here.join("."));
      else if (isMap(child)) walk(child, declared, here);
    }
  };
  walk(values, schema, []);
  return dead;
}

/**
 * With only the chart's values.yaml and schema (../shared/charts): a key is live where values.yaml
 * (or a subchart's) has it, documents it as a commented-out example, the schema declares it, or it
 * lies below a free-form path of FREE_FORM_VALUES.
 */
function deadByValuesFile(values: Values, dir: string): string[] {
  const defaults = chartDefaults(dir);
  const documented = commentedKeys(dir);
  const schemaFile = path.join(dir, "values.schema.json");
  const schema = fs.existsSync(schemaFile)
    ? (JSON.parse(fs.readFileSync(schemaFile, "utf8")) as SchemaNode)
    : undefined;
  const dead: string[] = [];
  const walk = (value: Values, known: unknown, node: SchemaNode | "any" | undefined, at: string[]) => {
    for (const [key, child] of Object.entries(value)) {
      if (key in FREE_FORM_VALUES) continue;
      const here = [...at, key];
      const schemaChild = node === "any" ? "any" : schemaAllows(node, key);
      if (!(isMap(known) && key in known) && !schemaChild && !documented.has(key)) {
        dead.push(here.join("."));
        continue;
      }
      const knownChild = isMap(known) ? known[key] : undefined;
      // Below an empty or absent default nothing can be compared: the chart takes any keys there.
      if (!isMap(child) || !isMap(knownChild) || Object.keys(knownChild).length === 0) continue;
      walk(child, knownChild, schemaChild, here);
    }
  };
  walk(values, defaults, schema, []);
  return dead;
}

interface Crd {
  spec: {
    group: string;
    names: { kind: string };
    versions: { name: string; schema?: { openAPIV3Schema?: Record<string, unknown> } }[];
  };
}

type OpenApi = Record<string, unknown>;

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern, "u");
    return true;
  } catch {
    return false;
  }
}

/** An OpenAPI v3 CRD schema as JSON Schema with structural semantics: unknown fields are errors. */
export function structural(schema: OpenApi): OpenApi {
  const out: OpenApi = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith("x-kubernetes-") || key === "nullable") continue;
    // A few CRDs use Go (RE2) syntax such as (?i) that JavaScript cannot compile; the API server
    // checks those patterns, this check leaves them out.
    if (key === "pattern" && !compiles(String(value))) continue;
    if (key === "properties" && isMap(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, structural(v as OpenApi)]));
    } else if ((key === "items" || key === "additionalProperties" || key === "not") && isMap(value)) {
      out[key] = structural(value);
    } else if ((key === "allOf" || key === "anyOf" || key === "oneOf") && Array.isArray(value)) {
      out[key] = value.map((v) => structural(v as OpenApi));
    } else {
      out[key] = value;
    }
  }
  if (schema["x-kubernetes-int-or-string"]) {
    delete out["type"];
    out["anyOf"] = [{ type: "integer" }, { type: "string" }, ...((out["anyOf"] as OpenApi[]) ?? [])];
  }
  if (schema["nullable"] && typeof out["type"] === "string") out["type"] = [out["type"], "null"];
  const preserve = schema["x-kubernetes-preserve-unknown-fields"] === true;
  if (out["type"] === "object" && !preserve && out["additionalProperties"] === undefined) {
    out["additionalProperties"] = false;
  }
  if (schema["x-kubernetes-embedded-resource"] && isMap(out["properties"])) {
    out["properties"] = { apiVersion: {}, kind: {}, metadata: {}, ...out["properties"] };
  }
  return out;
}

const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
const validators = new Map<OpenApi, ValidateFunction>();

/**
 * A chart's CRDs by `group/Kind`, their YAML not yet parsed: the group and kind are read from the
 * text (spec.group, spec.names.kind), so only the CRDs a stack's resources use are ever parsed
 * (the charts' CRDs are megabytes of YAML). A document whose text does not show them is parsed.
 */
function crdTexts(dir: string): Map<string, string> {
  let found = crdTextsByDir.get(dir);
  if (found) return found;
  found = new Map();
  const crds = path.join(dir, "crds");
  for (const file of fs.existsSync(crds) ? fs.readdirSync(crds).sort() : []) {
    for (const text of fs.readFileSync(path.join(crds, file), "utf8").split(/^---\s*$/m)) {
      const group = /^ {2}group: ["']?([\w.-]+)["']?\s*$/m.exec(text)?.[1];
      const kind = /^ {4}kind: ["']?(\w+)["']?\s*$/m.exec(text)?.[1];
      if (group && kind) found.set(`${group}/${kind}`, text);
      else
        for (const doc of kubernetesDocuments(text)) {
          const crd = "value" in doc ? (doc.value as Crd | null) : null;
          if (crd?.spec?.group) found.set(`${crd.spec.group}/${crd.spec.names.kind}`, text);
        }
    }
  }
  crdTextsByDir.set(dir, found);
  return found;
}
const crdTextsByDir = new Map<string, Map<string, string>>();

/** The openAPIV3Schema of a CRD version in a chart's data (`group/version/Kind`), parsed once. */
function crdSchema(dir: string, group: string, version: string, kind: string): OpenApi | undefined {
  const key = `${dir}\n${group}/${version}/${kind}`;
  if (schemaCache.has(key)) return schemaCache.get(key);
  const text = crdTexts(dir).get(`${group}/${kind}`);
  const first = text === undefined ? undefined : kubernetesDocuments(text).next().value;
  const crd = first && "value" in first ? (first.value as Crd | null) : undefined;
  const schema = crd?.spec?.versions?.find((v) => v.name === version)?.schema?.openAPIV3Schema;
  schemaCache.set(key, schema);
  return schema;
}
const schemaCache = new Map<string, OpenApi | undefined>();

/**
 * The validator of a custom resource's kind from the CRDs in these chart-data folders, compiled
 * on first use; undefined when none of them defines it.
 */
export function crdValidator(dirs: string[], apiVersion: string, kind: string): ValidateFunction | undefined {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const schema = dirs.map((dir) => crdSchema(dir, group ?? "", version ?? "", kind)).find(Boolean);
  if (!schema) return undefined;
  let validate = validators.get(schema);
  if (!validate) {
    const root = structural(schema);
    // metadata is checked by the API server's own ObjectMeta, not the CRD.
    if (isMap(root["properties"])) root["properties"] = { ...root["properties"], metadata: { type: "object" } };
    validate = ajv.compile(root);
    validators.set(schema, validate);
  }
  return validate;
}
