/**
 * Small builders shared by the rules: every policy carries a category tag (security or
 * operations) that the stack policy configs follow, and most rules only need "for each
 * resource of these types, list what is wrong".
 */
import type {
  EnforcementLevel,
  PolicyConfigSchema,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";

/** One property of a policy's configSchema (a JSON schema). */
export type JsonSchema = PolicyConfigSchema["properties"][string];

/** Security rules are mandatory from staging on; operations rules only in production. */
export type PolicyCategory = "security" | "operations";

export interface RuleArgs<Config> {
  name: string;
  description: string;
  category: PolicyCategory;
  enforcementLevel?: EnforcementLevel;
  configSchema?: PolicyConfigSchema;
  remediationSteps?: string;
  /** Type tokens the rule applies to; any other type is reported not applicable. */
  types: string[] | ((type: string) => boolean);
  /** Messages for what is wrong; none when the resource complies. */
  check(props: Record<string, unknown>, config: Config, args: ResourceValidationArgs): string[] | Promise<string[]>;
}

export function defaultLevel(category: PolicyCategory): EnforcementLevel {
  return category === "security" ? "mandatory" : "advisory";
}

/** A resource policy from a list-what-is-wrong check. */
export function resourceRule<Config extends object = Record<string, never>>(
  rule: RuleArgs<Config>,
): ResourceValidationPolicy {
  const applies =
    typeof rule.types === "function" ? rule.types : (type: string) => (rule.types as string[]).includes(type);
  return {
    name: rule.name,
    description: rule.description,
    enforcementLevel: rule.enforcementLevel ?? defaultLevel(rule.category),
    tags: [rule.category],
    ...(rule.configSchema && { configSchema: rule.configSchema }),
    ...(rule.remediationSteps && { remediationSteps: rule.remediationSteps }),
    validateResource: async (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
      if (!applies(args.type))
        args.notApplicable(`applies to ${typeof rule.types === "function" ? "other types" : rule.types.join(", ")}`);
      for (const message of await rule.check(args.props, args.getConfig<Config>(), args)) reportViolation(message);
    },
  };
}

/** A stack policy whose default enforcement follows its category. */
export function stackRule(
  rule: Omit<StackValidationPolicy, "enforcementLevel" | "tags"> & { category: PolicyCategory },
): StackValidationPolicy {
  const { category, ...policy } = rule;
  return { ...policy, enforcementLevel: defaultLevel(category), tags: [category] };
}

/** The messages of the checks that failed: each check is a message, or false when it passed. */
export function failing(...checks: (string | false)[]): string[] {
  return checks.filter((check): check is string => typeof check === "string");
}

/** Reads a dotted path (`server.dataStorage.enabled`) from nested values. */
export function valueAt(values: unknown, path: string): unknown {
  return path
    .split(".")
    .reduce<unknown>(
      (node, key) => (node && typeof node === "object" ? (node as Record<string, unknown>)[key] : undefined),
      values,
    );
}

/** JSON schema for a map of namespace → reason, the shape of every allowlist in the pack. */
export const NAMESPACE_REASONS_SCHEMA: JsonSchema = {
  type: "object",
  description: "Namespace name → why it is exempt (the reason is recorded in the policy config for reviewers).",
  additionalProperties: { type: "string", minLength: 1 },
  default: {},
};
