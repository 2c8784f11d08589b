/**
 * Review stacks: Pulumi Deployments copies the `pr` stack's config into a stack per pull
 * request. A review stack is dev-shaped and lives on a cluster another stack owns (staging's):
 * it creates only its own application and data namespaces, named after the pull request, and
 * uses the owner's operators, Prometheus and metrics adapter.
 */
import { z } from "zod";
import type { NamespaceRole } from "./names";
import { dnsLabel, strictObject } from "./primitives";

/** The namespaces a review stack creates; the other roles name the owner's namespaces. */
export const REVIEW_ROLES = ["application", "data"] as const satisfies readonly NamespaceRole[];

export const reviewSchema = strictObject({
  /** Hours from the review stack's first update until Pulumi Deployments destroys it. */
  ttlHours: z
    .number({ error: "must be a whole number of hours" })
    .int("must be a whole number of hours")
    .min(1, "must be between 1 and 720 (30 days)")
    .max(720, "must be between 1 and 720 (30 days)")
    .default(72),
  /** Where the cluster owner's CloudNativePG operator runs (it reconciles every namespace's Clusters). */
  postgresOperatorNamespace: dnsLabel,
});

export type ReviewConfig = z.output<typeof reviewSchema>;

const MAX_ID = 20;

/**
 * What makes a review stack's names its own: `pr-42` for a stack whose name ends in the pull
 * request's number (as Deployments names review stacks), otherwise the stack name as a DNS label.
 */
export function reviewId(stack: string): string {
  const pr = /(\d+)$/.exec(stack);
  if (pr) return `pr-${pr[1]}`;
  const label = stack
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .slice(0, MAX_ID)
    .replace(/^-+|-+$/g, "");
  return label || "review";
}

/** `doc-rag-review` → `doc-rag-review-pr-42`. */
export function reviewNamespaceName(name: string, stack: string): string {
  return `${name}-${reviewId(stack)}`;
}
