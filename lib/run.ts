/**
 * Runs the real program for a stack under Pulumi's mock runtime and records every
 * resource registration as the engine would receive it. Tests, `npm run plan` and the
 * benchmarks all go through `runStack`.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { layersOf, PROJECTS, type Layer } from "../components/environment/projects";
import { PROJECT as CONFIG_NAMESPACE } from "../components/config/names";
import { mocks, STACK_OUTPUTS } from "./mocks";
import { isSecret, secret, unwrapSecrets, type RecordedResource, type StackRun } from "./resources";
import { applyOverrides, readStackConfig, type StackConfigInput } from "./stackConfig";

import { CODE_ROOT, PROJECT_ROOT } from "./paths";

export { PROJECT_ROOT };

export interface RunOptions {
  /** `key=value` config overrides for this run only. */
  overrides?: readonly string[];
  /** `key=value` overrides set as secrets (`pulumi config set --secret`). */
  secretOverrides?: readonly string[];
  /** Project directory (its Pulumi.yaml, stack files and index); defaults to this repository. */
  root?: string;
  /** Where the program's code is, when it is not `root` (a program built into dist/); default: `root`. */
  code?: string;
  /**
   * Run one layer's project (projects/<layer>/) instead of the single-stack program; the stacks of
   * the layers it reads are run first and answer its stack references.
   */
  project?: Layer;
  /**
   * What a referenced layer's stack holds instead of its recorded outputs (a stack brought up
   * from other code, or never): layer → outputs. For tests of the references themselves.
   */
  referencedOutputs?: Partial<Record<Layer, Record<string, unknown>>>;
  /**
   * Whose Pulumi.<stack>.yaml to read, when the stack is a copy of another's config (a review
   * stack, which Deployments makes from the `pr` template). Default: the stack itself.
   */
  configFrom?: string;
  /**
   * Evaluate afresh instead of sharing the recorded run of an earlier call with the same
   * stack and options (for tests of the evaluation itself, e.g. that it is deterministic).
   */
  fresh?: boolean;
}

type Properties = Parameters<typeof pulumi.runtime.deserializeProperties>[0];

// The parts of the engine's RegisterResourceRequest the harness reads.
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getProvider(): string;
  getDependenciesList(): string[];
  getPropertydependenciesMap(): { forEach(fn: (deps: { getUrnsList(): string[] }) => void): void };
  getProtect(): boolean | undefined;
  getRetainondelete(): boolean | undefined;
  getDeletebeforereplace(): boolean;
  getIgnorechangesList(): string[];
  getAdditionalsecretoutputsList(): string[];
  getAliasesList(): {
    getUrn(): string;
    getSpec(): { getName(): string; getNoparent(): boolean; getParenturn(): string } | undefined;
  }[];
  getObject(): Properties;
}

// The parts of the engine's ReadResourceRequest the harness reads (a RegisterRequest has them too).
interface ReadRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getProvider(): string;
  getDependenciesList(): string[];
}

type Callback<R> = (err: unknown, resp: R) => void;

interface MockMonitorLike {
  registerResource(req: RegisterRequest, callback: Callback<{ getUrn(): string }>): Promise<void>;
  readResource(req: ReadRequest, callback: Callback<{ getUrn(): string; getProperties(): Properties }>): Promise<void>;
}

/** An alias as one string: its URN, or what its spec changes (a name, or `parent:<urn>` / `parent:none`). */
function describeAlias(alias: ReturnType<RegisterRequest["getAliasesList"]>[number]): string {
  const spec = alias.getSpec();
  if (alias.getUrn() || !spec) return alias.getUrn();
  const parent = spec.getNoparent() ? "parent:none" : spec.getParenturn() ? `parent:${spec.getParenturn()}` : "";
  return [spec.getName(), parent].filter(Boolean).join(" ");
}

/** Dependencies no input implies: what `dependsOn` added (the engine merges both). */
function explicitDependencies(req: RegisterRequest): string[] {
  const implied = new Set<string>();
  req.getPropertydependenciesMap().forEach((deps) => deps.getUrnsList().forEach((urn) => implied.add(urn)));
  return req.getDependenciesList().filter((urn) => !implied.has(urn));
}

/** What registrations and reads share: identity, parent, provider, dependencies. */
function identity(
  req: ReadRequest,
  urn: string,
): Pick<RecordedResource, "urn" | "type" | "name" | "parent" | "provider" | "dependencies"> {
  return {
    urn,
    type: req.getType(),
    name: req.getName(),
    ...(req.getParent() ? { parent: req.getParent() } : {}),
    ...(req.getProvider() ? { provider: req.getProvider() } : {}),
    dependencies: req.getDependenciesList(),
  };
}

/** The root resource the engine parents every resource to; the plan shows its children as roots. */
const STACK_TYPE = "pulumi:pulumi:Stack";

/** Wraps the mock monitor so each registration is recorded with its options. */
function recordRegistrations(monitor: MockMonitorLike, into: RecordedResource[]): void {
  let stackUrn = "";
  /** Identity with the stack's own parenthood left out, as `pulumi preview` shows the tree. */
  const identityOf = (req: ReadRequest, urn: string) => {
    const { parent, ...rest } = identity(req, urn);
    return parent && parent !== stackUrn ? { ...rest, parent } : rest;
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) =>
    register(req, (err, resp) => {
      if (!err && req.getType() === STACK_TYPE) stackUrn = resp.getUrn();
      else if (!err) {
        into.push({
          ...identityOf(req, resp.getUrn()),
          custom: req.getCustom(),
          inputs: pulumi.runtime.deserializeProperties(req.getObject()) as Record<string, unknown>,
          options: {
            dependsOn: explicitDependencies(req),
            protect: req.getProtect() ?? false,
            retainOnDelete: req.getRetainondelete() ?? false,
            deleteBeforeReplace: req.getDeletebeforereplace(),
            ignoreChanges: req.getIgnorechangesList(),
            aliases: req.getAliasesList().map(describeAlias),
            additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
          },
        });
      }
      callback(err, resp);
    });
  // A read is in the engine's snapshot too (stack policies see it), with the state read as its
  // props; it takes none of a registration's options.
  const read = monitor.readResource.bind(monitor);
  monitor.readResource = (req, callback) =>
    read(req, (err, resp) => {
      if (!err) {
        into.push({
          ...identityOf(req, resp.getUrn()),
          custom: true,
          read: true,
          inputs: pulumi.runtime.deserializeProperties(resp.getProperties()) as Record<string, unknown>,
          options: {
            dependsOn: [],
            protect: false,
            retainOnDelete: false,
            deleteBeforeReplace: false,
            ignoreChanges: [],
            aliases: [],
            additionalSecretOutputs: [],
          },
        });
      }
      callback(err, resp);
    });
}

/**
 * Forgets the programs' entry modules (the root's index and projects/<layer>/index), so the next import
 * runs the program afresh. The components, the engine, the tools and the tests stay loaded (the
 * components keep no module state): one evaluation of them, and one recorded-run cache, for all.
 */
function forgetProgram(root: string): void {
  const program = [path.join(root, "index."), path.join(root, "projects") + path.sep];
  for (const id of Object.keys(require.cache)) {
    if (program.some((p) => id.startsWith(p)) && !id.includes(`${path.sep}node_modules${path.sep}`)) {
      // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- require.cache is keyed by path
      delete require.cache[id];
    }
  }
}

async function resolveOutput(value: unknown): Promise<unknown> {
  if (!pulumi.Output.isInstance(value)) return value;
  // Output's promise/isSecret are internal to the SDK but stable; they give value and secrecy.
  const internal = value as unknown as { promise(): Promise<unknown>; isSecret: Promise<boolean> };
  const [resolved, isSecretOutput] = await Promise.all([internal.promise(), internal.isSecret]);
  return isSecretOutput ? secret(resolved) : resolved;
}

/**
 * Stack frames kept while the program runs. The SDK records a stack trace on every promise it
 * makes, only to explain leaked promises at exit; under tsx's source maps that costs half of an
 * evaluation. `PULUMI_DEBUG_PROMISE_LEAKS`, the SDK's own switch for those traces, keeps them.
 * A program error still carries its message, which is all the harness reports.
 */
const PROMISE_STACKS = process.env["PULUMI_DEBUG_PROMISE_LEAKS"] ? Error.stackTraceLimit : 0;

/** The Pulumi Cloud organization the program sees under the harness. */
export const MOCK_ORGANIZATION = "doc-rag";

/** Freezes a recorded run all the way down, so no test can change what another one reads. */
function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

// Pulumi's runtime is process-global: runs take turns.
let queue: Promise<unknown> = Promise.resolve();
// One evaluation per distinct (project, stack, config source, overrides) in a process: the
// program is deterministic (a test proves it with `fresh`), so every caller shares the run.
const runs = new Map<string, Promise<StackRun>>();

/** The layers whose stacks a layer's program references (the contracts it reads). */
const READS: Readonly<Record<Layer, readonly Layer[]>> = {
  cluster: [],
  data: ["cluster"],
  app: ["cluster", "data"],
  governance: [],
};

/** Runs `fn` when the runs before it are done: Pulumi's runtime is process-global. */
function exclusive<T>(fn: () => Promise<T>): Promise<T> {
  const run = queue.then(fn);
  queue = run.catch(() => undefined);
  return run;
}

/** Runs the program for `stack` (its Pulumi.<stack>.yaml plus overrides) and records it. */
export function runStack(stack: string, options: RunOptions = {}): Promise<StackRun> {
  const key = JSON.stringify([
    options.root ?? PROJECT_ROOT,
    options.project ?? "",
    stack,
    options.configFrom ?? stack,
    options.overrides ?? [],
    options.secretOverrides ?? [],
    options.referencedOutputs ?? {},
  ]);
  const shared = options.fresh ? undefined : runs.get(key);
  if (shared) return shared;
  const layer = options.project;
  // The stacks this layer reads are evaluated first (each once), and answer its references.
  const { referencedOutputs, ...lowerOptions } = options;
  const below = layer
    ? READS[layer].map((read) =>
        referencedOutputs?.[read]
          ? Promise.resolve({ stack, resources: [], outputs: referencedOutputs[read] })
          : runStack(stack, { ...lowerOptions, project: read, fresh: false }),
      )
    : [];
  const run = Promise.all(below)
    .then((lower) => exclusive(() => runExclusive(stack, options, lower)))
    .then(deepFreeze);
  if (!options.fresh) runs.set(key, run);
  return run;
}

/** One environment: each of its layers' stacks in order, as `npm run up` brings them up. */
export interface EnvironmentRun {
  stack: string;
  /** Each layer's run, in the order the layers are brought up. */
  layers: Partial<Record<Layer, StackRun>>;
  /** Every layer's resources together, and their outputs by name. */
  resources: RecordedResource[];
  outputs: Record<string, unknown>;
  /** The first layer that failed: the later ones are not run (their references would fail). */
  error?: Error;
}

/** The layers the stack's config has stacks for (none for a review stack: it is single-stack). */
export function environmentLayers(stack: string, options: RunOptions = {}): Layer[] {
  const input = configInput(options.root ?? PROJECT_ROOT, stack, options);
  const value = (key: string) => {
    const raw = input.config[`${CONFIG_NAMESPACE}:${key}`];
    try {
      return raw === undefined ? undefined : (JSON.parse(raw) as unknown);
    } catch {
      return raw;
    }
  };
  return layersOf({ environment: String(value("environment")), review: value("review"), github: value("github") });
}

/** Runs every layer's project of an environment in order (a failed layer stops the rest). */
export async function runEnvironment(
  stack: string,
  options: Omit<RunOptions, "project"> = {},
): Promise<EnvironmentRun> {
  const layers: EnvironmentRun["layers"] = {};
  const environment: EnvironmentRun = { stack, layers, resources: [], outputs: {} };
  for (const layer of environmentLayers(stack, options)) {
    const run = await runStack(stack, { ...options, project: layer });
    layers[layer] = run;
    environment.resources.push(...run.resources);
    Object.assign(environment.outputs, run.outputs);
    if (run.error) {
      environment.error = run.error;
      break;
    }
  }
  return environment;
}

/** A project's config for a run: its stack file, then the overrides (keys in the doc-rag: namespace). */
function configInput(root: string, stack: string, options: RunOptions): StackConfigInput {
  const read = readStackConfig(root, options.configFrom ?? stack);
  // Unqualified override keys are the platform's config (doc-rag:), whichever project runs.
  const asPlatform = { ...read, project: CONFIG_NAMESPACE };
  const input = applyOverrides(applyOverrides(asPlatform, options.overrides ?? []), options.secretOverrides ?? [], {
    secret: true,
  });
  return { ...input, project: read.project };
}

/** A recorded run's outputs as its stack's state holds them: values, and the names of the secret ones. */
function stackState(run: StackRun): { outputs: Record<string, unknown>; secretOutputNames: string[] } {
  const outputs: Record<string, unknown> = {};
  const secretOutputNames: string[] = [];
  for (const [name, value] of Object.entries(run.outputs)) {
    if (value === undefined) continue;
    outputs[name] = unwrapSecrets(value);
    if (isSecret(value)) secretOutputNames.push(name);
  }
  return { outputs, secretOutputNames };
}

async function runExclusive(stack: string, options: RunOptions, lower: readonly StackRun[]): Promise<StackRun> {
  const layer = options.project;
  const base = options.root ?? PROJECT_ROOT;
  const root = layer ? path.join(base, "projects", layer) : base;
  // The program's modules: beside this harness (sources under tsx, or dist/ once built).
  const codeBase = options.code ?? options.root ?? CODE_ROOT;
  const code = layer ? path.join(codeBase, "projects", layer) : codeBase;
  const input = configInput(root, stack, options);
  const resources: RecordedResource[] = [];
  const outputs: Record<string, unknown> = {};
  const failures: Error[] = [];
  const asError = (reason: unknown) => (reason instanceof Error ? reason : new Error(String(reason)));
  const onRejection = (reason: unknown) => failures.push(asError(reason));

  STACK_OUTPUTS.clear();
  if (layer) {
    READS[layer].forEach((read, i) => {
      const run = lower[i];
      if (run && !run.error) STACK_OUTPUTS.set(`${MOCK_ORGANIZATION}/${PROJECTS[read]}/${stack}`, stackState(run));
    });
  }
  pulumi.runtime.setAllConfig(input.config, input.secretKeys);
  await pulumi.runtime.setMocks(mocks, input.project, stack, false, MOCK_ORGANIZATION);
  recordRegistrations(pulumi.runtime.getMonitor() as unknown as MockMonitorLike, resources);
  forgetProgram(codeBase);
  process.on("unhandledRejection", onRejection);
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = PROMISE_STACKS;
  try {
    // Inside the stack's root resource, as the language host runs it (stack transformations need it).
    let program: Record<string, unknown> = {};
    await pulumi.runtime.runInPulumiStack(async () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const exported = require(path.join(code, "index")) as unknown;
      // A module that exports a function is called, as the language host does (the layer programs).
      program = (typeof exported === "function" ? await (exported as () => unknown)() : exported) as Record<
        string,
        unknown
      >;
      return program;
    });
    for (const [name, value] of Object.entries(program)) {
      outputs[name] = await resolveOutput(value);
    }
    await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
  } catch (err) {
    failures.push(asError(err));
  } finally {
    // Let rejections already queued surface before we stop listening.
    await new Promise((resolve) => setImmediate(resolve));
    process.off("unhandledRejection", onRejection);
    Error.stackTraceLimit = stackTraceLimit;
  }
  return {
    stack,
    ...(layer ? { project: PROJECTS[layer] } : {}),
    resources,
    outputs,
    ...(failures[0] ? { error: failures[0] } : {}),
  };
}

/** Which program a tool runs for a stack: one layer's project, the single stack, or (default) every layer. */
export type ProjectChoice = Layer | "single";

export const PROJECT_CHOICES: readonly ProjectChoice[] = [...Object.keys(PROJECTS), "single"] as ProjectChoice[];

/**
 * What a tool shows for a stack: each project's run as Pulumi runs it (a policy pack judges each
 * stack alone), and the whole environment together (flows and quotas need every project's
 * objects). Default: every layer the environment has, or the single stack for a review stack.
 */
export async function runPlanned(
  stack: string,
  options: Omit<RunOptions, "project"> & { project?: ProjectChoice } = {},
): Promise<{ parts: StackRun[]; whole: StackRun }> {
  const { project, ...rest } = options;
  if (project && project !== "single") {
    const run = await runStack(stack, { ...rest, project });
    return { parts: [run], whole: run };
  }
  if (project === "single" || environmentLayers(stack, rest).length === 0) {
    const run = await runStack(stack, rest);
    return { parts: [run], whole: run };
  }
  const environment = await runEnvironment(stack, rest);
  const parts = Object.values(environment.layers);
  const whole: StackRun = {
    stack,
    resources: environment.resources,
    outputs: environment.outputs,
    ...(environment.error ? { error: environment.error } : {}),
  };
  return { parts, whole };
}
