/** What a run records, and the helpers tests, the plan and the benchmarks use to read it. */
/**
 * How the engine marks a secret value: the SDK's `runtime.specialSigKey` and
 * `runtime.specialSecretSig`, written out so that reading a run (the policy checker does) does not
 * load the whole SDK; the harness's tests check that they still equal the SDK's.
 */
export const SECRET_SIGNATURE = {
  specialSigKey: "4dabf18193072939515e22adb298388d",
  specialSecretSig: "1b47061264138c4ac30d75fd1eb44270",
} as const;
const { specialSigKey, specialSecretSig } = SECRET_SIGNATURE;

export interface RecordedResource {
  urn: string;
  type: string;
  name: string;
  /** The parent's URN; undefined for top-level resources. */
  parent?: string;
  custom: boolean;
  /** Read from the provider (`.get`), not managed: its `inputs` are the state read. */
  read?: boolean;
  /** Inputs as the engine receives them; secret values are wrapped (see `isSecret`). */
  inputs: Record<string, unknown>;
  /** Provider reference (`urn::id`) for custom resources. */
  provider?: string;
  /** URNs this resource depends on (explicit dependsOn and input dependencies). */
  dependencies: string[];
  options: {
    /** Dependencies that no input implies, i.e. added by `dependsOn`. */
    dependsOn: string[];
    protect: boolean;
    retainOnDelete: boolean;
    deleteBeforeReplace: boolean;
    ignoreChanges: string[];
    aliases: string[];
    additionalSecretOutputs: string[];
  };
}

export interface StackRun {
  stack: string;
  /** The layer project that ran (projects/<layer>/); absent for the single-stack program. */
  project?: string;
  resources: RecordedResource[];
  /** Stack outputs, resolved; secret ones wrapped as in inputs. */
  outputs: Record<string, unknown>;
  /** Set when the program failed (e.g. a config error); `resources` shows what got registered. */
  error?: Error;
}

export interface SecretValue {
  [specialSigKey]: typeof specialSecretSig;
  value: unknown;
}

export function isSecret(value: unknown): value is SecretValue {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<string, unknown>)[specialSigKey] === specialSecretSig
  );
}

export function secret(value: unknown): SecretValue {
  return { [specialSigKey]: specialSecretSig, value } as SecretValue;
}

function mapDeep(value: unknown, onSecret: (s: SecretValue) => unknown): unknown {
  if (isSecret(value)) return onSecret(value);
  if (Array.isArray(value)) return value.map((v) => mapDeep(v, onSecret));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapDeep(v, onSecret)]));
  }
  return value;
}

/** The value with every secret replaced by its plaintext: for assertions only. */
export function unwrapSecrets<T = unknown>(value: unknown): T {
  return mapDeep(value, (s) => unwrapSecrets(s.value)) as T;
}

/** The value with every secret replaced by "[secret]": what the plan writes. */
export function redactSecrets<T = unknown>(value: unknown): T {
  return mapDeep(value, () => "[secret]") as T;
}

/** Resources of a type token, optionally with a given logical name. */
export function ofType(run: StackRun, type: string): RecordedResource[] {
  return run.resources.filter((r) => r.type === type);
}

/** The one resource of that type and name; throws, listing what exists, when there is none. */
export function find(run: StackRun, type: string, name: string): RecordedResource {
  const found = run.resources.find((r) => r.type === type && r.name === name);
  if (!found) {
    const names = ofType(run, type).map((r) => r.name);
    throw new Error(`no ${type} named ${name} in stack ${run.stack}; there are: ${names.join(", ") || "none"}`);
  }
  return found;
}

/** Direct children of a resource. */
export function childrenOf(run: StackRun, parent: RecordedResource): RecordedResource[] {
  return run.resources.filter((r) => r.parent === parent.urn);
}

/** Free-form inputs (chart values, manifests, provider inputs), read by tests key by key. */
export type Values = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- free-form by nature
