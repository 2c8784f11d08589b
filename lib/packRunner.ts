/**
 * Runs CrossGuard policies offline. Builds the arguments the Pulumi CLI passes to a policy
 * (type, props, urn, name, opts, isType/asType, getConfig, notApplicable), applies the
 * policy config the way `--policy-pack-config` does (JSON schema with defaults, per-policy
 * enforcement level, `all`), and collects violations. Used by the tests, the plan, the
 * policy checker and the benchmark.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv from "ajv";
import type {
  EnforcementLevel,
  Policies,
  PolicyResource,
  PolicyResourceOptions,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";
import { isStackPolicy } from "../policies/pack";
import { unwrapSecrets, type StackRun } from "./resources";
import { PROJECT_ROOT } from "./paths";

/** A resource as policies see it. `dependencies` and `parent` are URNs. */
export interface PolicyTarget {
  type: string;
  props: Record<string, unknown>;
  name?: string;
  urn?: string;
  opts?: Partial<PolicyResourceOptions>;
  dependencies?: string[];
  parent?: string;
  /** Read, not managed: only stack policies see it. */
  read?: boolean;
}

type PolicyConfigValue = EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>);
/** The JSON document `pulumi preview --policy-pack-config` reads: policy name (or `all`) → level or settings. */
export type PackConfig = Record<string, PolicyConfigValue>;

export interface Violation {
  policy: string;
  enforcementLevel: EnforcementLevel;
  message: string;
  urn?: string;
  type?: string;
  name?: string;
}

export interface PolicyOutcome {
  violations: { message: string; urn?: string }[];
  notApplicable?: string;
}

export class PolicyConfigError extends Error {}

class NotApplicable extends Error {}

type AnyPolicy = ResourceValidationPolicy | StackValidationPolicy;

const ajv = new Ajv({ useDefaults: true, allErrors: true, strict: false });
const validators = new WeakMap<AnyPolicy, ReturnType<typeof ajv.compile>>();

/** The policy's settings from a pack config, validated and completed with the schema's defaults. */
export function settingsFor(
  policy: AnyPolicy,
  packConfig: PackConfig = {},
): { enforcementLevel: EnforcementLevel; config: Record<string, unknown> } {
  const entry = packConfig[policy.name];
  const all = packConfig.all;
  const { enforcementLevel: own, ...config } = typeof entry === "string" ? { enforcementLevel: entry } : (entry ?? {});
  const enforcementLevel =
    own ?? (typeof all === "string" ? all : all?.enforcementLevel) ?? policy.enforcementLevel ?? "advisory";
  let validate = validators.get(policy);
  if (!validate) {
    validate = ajv.compile({
      type: "object",
      properties: policy.configSchema?.properties ?? {},
      required: policy.configSchema?.required ?? [],
      additionalProperties: false,
    });
    validators.set(policy, validate);
  }
  const filled = structuredClone(config);
  if (!validate(filled)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}`).join("; ");
    throw new PolicyConfigError(`policy config for ${policy.name}: ${problems}`);
  }
  return { enforcementLevel, config: filled };
}

/** Checks a pack config names only policies of the pack (a typo would silently configure nothing). */
export function checkPackConfig(policies: Policies, packConfig: PackConfig): void {
  const names = new Set(policies.map((p) => p.name));
  const unknown = Object.keys(packConfig).filter((key) => key !== "all" && !names.has(key));
  if (unknown.length) throw new PolicyConfigError(`policy config names unknown policies: ${unknown.join(", ")}`);
  for (const policy of policies) settingsFor(policy, packConfig);
}

type ResourceClass = { __pulumiType?: string; isInstance?: (o: unknown) => boolean };

/** How the CLI's analyzer answers isType: by the class's Pulumi type token. */
function isTypeOf(type: string, resourceClass: ResourceClass): boolean {
  if (resourceClass.__pulumiType) return resourceClass.__pulumiType === type;
  return resourceClass.isInstance?.({ __pulumiType: type }) === true;
}

const notApplicable = (reason?: string): never => {
  throw new NotApplicable(reason ?? "not applicable");
};

function options(target: PolicyTarget): PolicyResourceOptions {
  return {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    additionalSecretOutputs: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    ...target.opts,
    ...(target.parent && { parent: target.parent }),
  };
}

/** What resource and stack policies both see of a resource: identity, inputs, options, type checks. */
function policyView(t: PolicyTarget) {
  const isType = (cls: unknown) => isTypeOf(t.type, cls as ResourceClass);
  return {
    type: t.type,
    props: t.props,
    urn: urnOf(t),
    name: t.name ?? "resource",
    opts: options(t),
    isType,
    // The analyzer hands back the resource's inputs when the type matches.
    asType: ((cls: unknown) => (isType(cls) ? t.props : undefined)) as ResourceValidationArgs["asType"] &
      PolicyResource["asType"],
  };
}

const urnOf = (t: PolicyTarget) => t.urn ?? `urn:pulumi:test::doc-rag::${t.type}::${t.name ?? "resource"}`;

async function collect(
  run: (report: (message: string, urn?: string) => void) => void | Promise<void>,
): Promise<PolicyOutcome> {
  const violations: PolicyOutcome["violations"] = [];
  try {
    await run((message, urn) => violations.push({ message, ...(urn && { urn }) }));
  } catch (err) {
    if (err instanceof NotApplicable) return { violations, notApplicable: err.message };
    throw err;
  }
  return { violations };
}

/** A Kubernetes object as a policy target: `apps/v1:Deployment` → `kubernetes:apps/v1:Deployment`, with its URN. */
export function kubernetesTarget(
  type: string,
  name: string,
  props: Record<string, unknown>,
  extra: Partial<PolicyTarget> = {},
): PolicyTarget {
  const target: PolicyTarget = { type: `kubernetes:${type}`, name, props, ...extra };
  return { ...target, urn: urnOf(target) };
}

/** Runs one resource policy on one resource, with its config completed from the schema. */
export async function runResourcePolicy(
  policy: ResourceValidationPolicy,
  target: PolicyTarget,
  config: Record<string, unknown> = {},
): Promise<PolicyOutcome> {
  const settings = settingsFor(policy, { [policy.name]: config }).config;
  const args: ResourceValidationArgs = {
    ...policyView(target),
    stackTags: new Map(),
    getConfig: <T extends object>() => settings as T,
    notApplicable,
  };
  const validations = [policy.validateResource ?? []].flat();
  return collect(async (report) => {
    for (const validate of validations) await validate(args, report);
  });
}

/** The resources as a stack policy sees them: dependencies and parents resolved to resources. */
export function policyResources(targets: PolicyTarget[]): PolicyResource[] {
  const byUrn = new Map<string, PolicyResource>();
  const pairs = targets.map((t) => {
    const resource: PolicyResource = { ...policyView(t), dependencies: [], propertyDependencies: {} };
    byUrn.set(resource.urn, resource);
    return [t, resource] as const;
  });
  const resources = pairs.map(([, resource]) => resource);
  pairs.forEach(([t, resource]) => {
    resource.dependencies = (t.dependencies ?? []).flatMap((urn) => byUrn.get(urn) ?? []);
    const parent = t.parent ? byUrn.get(t.parent) : undefined;
    if (parent) resource.parent = parent;
  });
  return resources;
}

/** Runs one stack policy over a set of resources. */
export async function runStackPolicy(
  policy: StackValidationPolicy,
  targets: PolicyTarget[] | PolicyResource[],
  config: Record<string, unknown> = {},
): Promise<PolicyOutcome> {
  const settings = settingsFor(policy, { [policy.name]: config }).config;
  const resources =
    targets[0] && "isType" in targets[0] ? (targets as PolicyResource[]) : policyResources(targets as PolicyTarget[]);
  return collect((report) =>
    policy.validateStack(
      { resources, stackTags: new Map(), getConfig: <T extends object>() => settings as T, notApplicable },
      report,
    ),
  );
}

export interface PackReport {
  violations: Violation[];
  /** Policies evaluated, and those the config disabled. */
  evaluated: string[];
  disabled: string[];
  mandatory: number;
  advisory: number;
}

/** Runs every resource policy on every resource and every stack policy on the whole set. */
export async function evaluatePack(
  policies: Policies,
  targets: PolicyTarget[],
  packConfig: PackConfig = {},
): Promise<PackReport> {
  checkPackConfig(policies, packConfig);
  const report: PackReport = { violations: [], evaluated: [], disabled: [], mandatory: 0, advisory: 0 };
  const resources = policyResources(targets);
  for (const policy of policies) {
    const { enforcementLevel, config } = settingsFor(policy, packConfig);
    if (enforcementLevel === "disabled") {
      report.disabled.push(policy.name);
      continue;
    }
    report.evaluated.push(policy.name);
    const add = (outcome: PolicyOutcome, target?: PolicyTarget) => {
      for (const v of outcome.violations) {
        const subject = target ?? targets.find((t) => urnOf(t) === v.urn);
        report.violations.push({
          policy: policy.name,
          enforcementLevel,
          message: v.message,
          ...(subject && { urn: urnOf(subject), type: subject.type, name: subject.name ?? "resource" }),
        });
      }
    };
    if (isStackPolicy(policy)) add(await runStackPolicy(policy, resources, config));
    else
      for (const target of targets.filter((t) => !t.read)) add(await runResourcePolicy(policy, target, config), target);
  }
  report.mandatory = report.violations.filter((v) => v.enforcementLevel === "mandatory").length;
  report.advisory = report.violations.length - report.mandatory;
  return report;
}

/**
 * The recorded resources of a run as policies see them at `pulumi preview` (custom resources only;
 * secrets in plaintext, as the analyzer gets them). A read (`.get`, a StackReference) shows there
 * without properties, and no resource's dependency on it reaches a stack policy: the real engine's
 * preview flagged what depended on reads, which the offline view had let pass.
 */
export function policyTargets(run: StackRun): PolicyTarget[] {
  const reads = new Set(run.resources.filter((r) => r.read).map((r) => r.urn));
  return run.resources
    .filter((r) => r.custom && !r.type.startsWith("pulumi:providers:"))
    .map((r) => ({
      type: r.type,
      name: r.name,
      urn: r.urn,
      props: r.read ? {} : unwrapSecrets(r.inputs),
      opts: { protect: r.options.protect, ignoreChanges: r.options.ignoreChanges, aliases: r.options.aliases },
      dependencies: r.dependencies.filter((urn) => !reads.has(urn)),
      ...(r.parent && { parent: r.parent }),
      ...(r.read && { read: true }),
    }));
}

export const POLICY_CONFIG_DIR = path.join(PROJECT_ROOT, "policies", "config");

/** A policy config file (JSON, as `--policy-pack-config` takes it). */
export function readPackConfig(file: string): PackConfig {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as PackConfig;
  } catch (err) {
    throw new PolicyConfigError(`cannot read policy config ${file}: ${(err as Error).message}`);
  }
}

/** The policy config shipped for a stack: policies/config/<stack>.json. */
export const stackPackConfig = (stack: string) => readPackConfig(path.join(POLICY_CONFIG_DIR, `${stack}.json`));
