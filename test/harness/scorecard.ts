/**
 * OpenSSF Scorecard's Branch-Protection score for a ruleset, from its tiers: each tier counts
 * only when every tier below it is met, and the score is that of the highest tier met.
 *   3: force pushes and deletion blocked
 *   6: pull requests required, with at least one approval and approval of the last push
 *   8: status checks required, the branch up to date
 *   9: at least two approvals and code-owner review
 *  10: stale approvals dismissed and nobody (no admin) may bypass
 */
import type { RulesetProps } from "../../policies/github";

export function branchProtectionScore(ruleset: RulesetProps): number {
  if (ruleset.enforcement !== "active") return 0;
  const rules = ruleset.rules ?? {};
  const pr = rules.pullRequest;
  const approvals = pr?.requiredApprovingReviewCount ?? 0;
  const tiers: [number, boolean][] = [
    [3, rules.nonFastForward === true && rules.deletion === true],
    [6, pr !== undefined && approvals >= 1 && pr.requireLastPushApproval === true],
    [
      8,
      (rules.requiredStatusChecks?.requiredChecks ?? []).length > 0 &&
        rules.requiredStatusChecks?.strictRequiredStatusChecksPolicy === true,
    ],
    [9, approvals >= 2 && pr?.requireCodeOwnerReview === true],
    [10, pr?.dismissStaleReviewsOnPush === true && (ruleset.bypassActors ?? []).length === 0],
  ];
  let score = 0;
  for (const [points, met] of tiers) {
    if (!met) break;
    score = points;
  }
  return score;
}
