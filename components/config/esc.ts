/**
 * The Pulumi ESC environments a stack file imports, and what each provides. No offline tool can
 * open one (nor the real-engine lane on a local backend), so they put placeholders in place of what
 * it would hold: the release (`doc-rag/<stack>-release`, written by the application's release
 * workflow) and the alert receivers (`doc-rag/<stack>-alerting`, the on-call team's webhooks,
 * kept out of the repository).
 */
import { PROJECT } from "./names";

export interface ProvidedKey {
  /** The config key, without the project namespace. */
  key: string;
  secret: boolean;
}

type Holds = "release" | "alerting" | "registry";

const PROVIDES: { suffix: Holds; stacks: string[]; keys: ProvidedKey[]; holds: string }[] = [
  {
    suffix: "release",
    stacks: ["staging", "production"],
    keys: [{ key: "release", secret: false }],
    holds: "The release this stack runs (doc-rag:release), written by the application's release workflow.",
  },
  {
    suffix: "alerting",
    stacks: ["production"],
    keys: [
      { key: "alertPagingUrl", secret: true },
      { key: "alertChatUrl", secret: true },
    ],
    holds:
      "The alert receivers (doc-rag:alertPagingUrl, doc-rag:alertChatUrl, as fn::secret), set by the on-call team.",
  },
  {
    suffix: "registry",
    stacks: ["staging", "production"],
    keys: [{ key: "registryAuth", secret: true }],
    holds: "The private registry's pull credential (doc-rag:registryAuth, a Docker config JSON, as fn::secret).",
  },
];

/** An ESC environment's name in the stack's project: `<stack>-release`, `<stack>-alerting`. */
export const escEnvironmentName = (stack: string, holds: Holds) => `${stack}-${holds}`;

/** The ESC environments (in the stack's project) a deployed stack's file imports, and what each holds. */
export function escEnvironments(stack: string): { name: string; holds: string }[] {
  return PROVIDES.filter((p) => p.stacks.includes(stack)).map((p) => ({
    name: escEnvironmentName(stack, p.suffix),
    holds: p.holds,
  }));
}

/** The keys an imported environment provides for `stack`; none for an environment this program does not know. */
export function escProvides(environment: string, stack: string): ProvidedKey[] {
  return PROVIDES.find((p) => environment === `${PROJECT}/${escEnvironmentName(stack, p.suffix)}`)?.keys ?? [];
}
