/**
 * Runs the real program for a stack under Pulumi's mock runtime and records every
 * resource registration as the engine would receive it. Tests, `npm run plan` and the
 * benchmarks all go through `runStack`.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { mocks } from "./mocks";
import { secret, type RecordedResource, type StackRun } from "./resources";
import { applyOverrides, readStackConfig } from "./stackConfig";

import { CODE_ROOT, PROJECT_ROOT } from "./paths";

export { PROJECT_ROOT };

export interface RunOptions {
  /** `key=value` config overrides for this run only. */
  overrides?: readonly string[];
  /** `key=value` overrides set as secrets (`pulumi config set --secret`). */
  secretOverrides?: readonly string[];
  /** Project directory (its Pulumi.yaml, stack files and index); defaults to this repository. */
  root?: string;
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
  getAliasesList(): { getUrn(): string; getSpec(): { getName(): string } | undefined }[];
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

function describeAlias(alias: ReturnType<RegisterRequest["getAliasesList"]>[number]): string {
  return alias.getUrn() || alias.getSpec()?.getName() || "";
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
 * Forgets the program's modules (its index and components/), so the next import evaluates the
 * program afresh. The engine, the tools and the tests stay loaded: one recorded-run cache for all.
 */
function forgetProgram(root: string): void {
  const program = [path.join(root, "index."), path.join(root, "components") + path.sep];
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

/** Runs the program for `stack` (its Pulumi.<stack>.yaml plus overrides) and records it. */
export function runStack(stack: string, options: RunOptions = {}): Promise<StackRun> {
  const key = JSON.stringify([
    options.root ?? PROJECT_ROOT,
    stack,
    options.configFrom ?? stack,
    options.overrides ?? [],
    options.secretOverrides ?? [],
  ]);
  const shared = options.fresh ? undefined : runs.get(key);
  if (shared) return shared;
  const run = queue.then(() => runExclusive(stack, options)).then(deepFreeze);
  queue = run.catch(() => undefined);
  if (!options.fresh) runs.set(key, run);
  return run;
}

async function runExclusive(stack: string, options: RunOptions): Promise<StackRun> {
  const root = options.root ?? PROJECT_ROOT;
  // The program's modules: beside this harness (sources under tsx, or dist/ once built).
  const code = options.root ?? CODE_ROOT;
  const input = applyOverrides(
    applyOverrides(readStackConfig(root, options.configFrom ?? stack), options.overrides ?? []),
    options.secretOverrides ?? [],
    { secret: true },
  );
  const resources: RecordedResource[] = [];
  const outputs: Record<string, unknown> = {};
  const failures: Error[] = [];
  const asError = (reason: unknown) => (reason instanceof Error ? reason : new Error(String(reason)));
  const onRejection = (reason: unknown) => failures.push(asError(reason));

  pulumi.runtime.setAllConfig(input.config, input.secretKeys);
  await pulumi.runtime.setMocks(mocks, input.project, stack, false, MOCK_ORGANIZATION);
  recordRegistrations(pulumi.runtime.getMonitor() as unknown as MockMonitorLike, resources);
  forgetProgram(code);
  process.on("unhandledRejection", onRejection);
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = PROMISE_STACKS;
  try {
    // Inside the stack's root resource, as the language host runs it (stack transformations need it).
    let program: Record<string, unknown> = {};
    await pulumi.runtime.runInPulumiStack(async () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      program = require(path.join(code, "index")) as Record<string, unknown>;
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
  return { stack, resources, outputs, ...(failures[0] ? { error: failures[0] } : {}) };
}
