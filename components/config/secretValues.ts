/**
 * Pulumi's rule for config secrets: whatever the stack file or `pulumi config set --secret` marks
 * secret is secret, whichever key it is under. A key the schema does not declare secret (an
 * e-mail, a host name) may still be set as one; its value then must not land in plain text in any
 * resource's inputs. A stack transformation marks every input that carries such a value secret.
 */
import * as pulumi from "@pulumi/pulumi";

/** Shorter values ("on", "1") are not matched inside other strings: they would mark everything. */
const SHORTEST = 4;

/** The text of every value set as a secret: the whole string, and each string leaf of a structured one. */
export function secretConfigTexts(raw: Record<string, string>, secretKeys: ReadonlySet<string>): string[] {
  const texts = new Set<string>();
  const leaves = (value: unknown): void => {
    if (typeof value === "string") texts.add(value);
    else if (typeof value === "object" && value !== null) Object.values(value).forEach(leaves);
  };
  for (const key of secretKeys) {
    const value = raw[key];
    if (value === undefined) continue;
    texts.add(value);
    try {
      leaves(JSON.parse(value));
    } catch {
      // a plain string
    }
  }
  return [...texts].filter((t) => t.length >= SHORTEST);
}

/** True if a plain value holds one of the texts anywhere (in a string, or a key). */
function carries(value: unknown, texts: readonly string[]): boolean {
  if (typeof value === "string") return texts.some((t) => value.includes(t));
  if (Array.isArray(value)) return value.some((v) => carries(v, texts));
  if (isPlainObject(value)) return Object.entries(value).some(([k, v]) => carries(k, texts) || carries(v, texts));
  return false;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype;

/** The value with each part that carries a secret text made secret; outputs are judged when they resolve. */
export function conceal(value: unknown, texts: readonly string[]): unknown {
  if (pulumi.Output.isInstance(value)) return value.apply((v: unknown) => (carries(v, texts) ? pulumi.secret(v) : v));
  if (typeof value === "string") return carries(value, texts) ? pulumi.secret(value) : value;
  if (Array.isArray(value)) return value.map((v) => conceal(v, texts));
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, conceal(v, texts)]));
  return value; // numbers, booleans, promises, resources: left as they are
}

/**
 * A transformation for the whole stack: every custom resource's inputs that carry the text of a
 * value set as secret become secret. Nothing changes for a stack without such values.
 */
export function concealConfigSecrets(texts: readonly string[]): pulumi.ResourceTransformation | undefined {
  if (texts.length === 0) return undefined;
  return (args) => {
    if (!(args.resource instanceof pulumi.CustomResource)) return undefined;
    return { props: conceal(args.props, texts) as pulumi.Inputs, opts: args.opts };
  };
}
