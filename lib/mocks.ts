/**
 * Pulumi mocks that answer like the real providers would, offline: every resource gets an
 * id and its inputs back as state, plus the outputs a provider computes (a Kubernetes
 * object's generated name, a generated password as a secret). Later components add their
 * providers' computed outputs to `COMPUTED`.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import type { MockCallArgs, MockResourceArgs, MockResourceResult, Mocks } from "@pulumi/pulumi/runtime";

type Computed = (args: MockResourceArgs) => Record<string, unknown>;

/** Deterministic stand-in for a provider's generated value, so two runs compare equal. */
export function fakeValue(kind: string, name: string): string {
  return `mock-${kind}-${name}`;
}

function kubernetesMetadata(args: MockResourceArgs): Record<string, unknown> {
  const metadata = (args.inputs["metadata"] ?? {}) as Record<string, unknown>;
  // The provider auto-names an object without metadata.name; mirror that deterministically.
  return { metadata: { ...metadata, name: metadata["name"] ?? `${args.name}-mock` } };
}

/**
 * A CustomResourceDefinition read from the cluster (`.get` by its name, `<plural>.<group>`):
 * the live object's name, group and plural, as the cluster would answer.
 */
function customResourceDefinition(args: MockResourceArgs): Record<string, unknown> {
  if (!args.id) return kubernetesMetadata(args);
  const [plural, ...group] = args.id.split(".");
  return { metadata: { name: args.id }, spec: { group: group.join("."), names: { plural } } };
}

/**
 * The outputs of the stacks a program references, by fully qualified stack name, as the harness
 * recorded them for the layers below; a stack not here has no outputs (never brought up).
 */
export const STACK_OUTPUTS = new Map<string, { outputs: Record<string, unknown>; secretOutputNames: string[] }>();

/** A StackReference read: the referenced stack's outputs, as the engine's read answers. */
function stackReference(args: MockResourceArgs): Record<string, unknown> {
  const name = String(args.inputs["name"] ?? args.id);
  const { outputs = {}, secretOutputNames = [] } = STACK_OUTPUTS.get(name) ?? {};
  // The engine keeps a referenced stack's secret outputs secret in the reference's state.
  const state = Object.fromEntries(
    Object.entries(outputs).map(([key, value]) => [
      key,
      secretOutputNames.includes(key) ? pulumi.secret(value) : value,
    ]),
  );
  return { name, outputs: state, secretOutputNames };
}

/** Outputs providers compute, by resource type token (or `kubernetes:*` for any object). */
export const COMPUTED: Record<string, Computed> = {
  "kubernetes:*": kubernetesMetadata,
  "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition": customResourceDefinition,
  "pulumi:pulumi:StackReference": stackReference,
  "random:index/randomId:RandomId": (args) => ({ hex: mockDigest(args.name).slice(7, 13) }),
  // The provider returns a team token's value once, as a secret.
  "pulumiservice:index:TeamAccessToken": (args) => ({ value: pulumi.secret(fakeValue("pulumi-token", args.name)) }),
  "random:index/randomPassword:RandomPassword": (args) => ({
    result: pulumi.secret(fakeValue("password", args.name)),
    bcryptHash: pulumi.secret(fakeValue("bcrypt", args.name)),
  }),
};

function computedFor(type: string): Computed | undefined {
  if (COMPUTED[type]) return COMPUTED[type];
  if (type.startsWith("kubernetes:") && !type.startsWith("kubernetes:helm")) return COMPUTED["kubernetes:*"];
  return undefined;
}

/** What data sources (invokes) answer, by token; others echo their inputs. */
export const INVOKES: Record<string, (inputs: Record<string, unknown>) => Record<string, unknown>> = {
  // A team's numeric id, derived from its slug.
  "github:index/getTeam:getTeam": (inputs) => ({
    ...inputs,
    id: String(Number.parseInt(mockDigest(String(inputs["slug"])).slice(7, 13), 16)),
    name: String(inputs["slug"]),
  }),
};

/** The digest the mock registry serves for an image name. */
export function mockDigest(name: string): string {
  return `sha256:${createHash("sha256").update(name).digest("hex")}`;
}

export const mocks: Mocks = {
  newResource(args: MockResourceArgs): MockResourceResult {
    const computed = computedFor(args.type)?.(args) ?? {};
    return { id: `${args.name}-id`, state: { ...args.inputs, ...computed } };
  },
  call(args: MockCallArgs) {
    const invoke = INVOKES[args.token];
    return invoke ? invoke(args.inputs as Record<string, unknown>) : (args.inputs as Record<string, unknown>);
  },
};
