/** How config problems read: the full key path, what is wrong, and the value (never a secret's). */
import type { z } from "zod";

/** How a secret value is shown in an error: never the value itself. */
export const SECRET_VALUE = "[secret]";

/** Longest value an error shows whole; a longer one (a pasted file, a 1 MB string) is cut, its length said. */
const SHOWN = 200;

export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value);
  return text.length <= SHOWN ? text : `${text.slice(0, SHOWN)}… (${text.length} characters)`;
}

/** `namespace:key.path["odd key"][0]`, as `pulumi config set --path` spells it. */
export function keyPath(path: readonly PropertyKey[], namespace: string): string {
  return path
    .map((part, i) => {
      const s = String(part);
      if (i === 0) return `${namespace}:${s}`;
      if (typeof part === "number") return `[${s}]`;
      return /^[A-Za-z_][\w-]*$/.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`;
    })
    .join("");
}

/** One line per problem; `isSecret` names the top-level keys whose values are not shown. */
export function formatIssue(
  issue: z.core.$ZodIssue,
  namespace: string,
  isSecret: (key: string) => boolean = () => false,
): string {
  const where = keyPath(issue.path, namespace);
  if (issue.code === "unrecognized_keys") {
    return `${where}: ${issue.message}`;
  }
  // A record's key that fails its own rule: say the rule, not zod's "Invalid key in record".
  if (issue.code === "invalid_key" && issue.issues.length) {
    const rule = issue.issues.map((i) => i.message).join("; ");
    return `${where}: the key ${describeValue((issue as { input?: unknown }).input)} ${rule.replace(/^must/, "must")}`;
  }
  const input = (issue as { input?: unknown }).input;
  if (input === undefined) {
    return `${where}: is required; ${issue.message.replace(/^Invalid input: /, "")}`;
  }
  return `${where}: ${issue.message} (got ${isSecret(String(issue.path[0])) ? SECRET_VALUE : describeValue(input)})`;
}
