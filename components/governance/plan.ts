/**
 * What the application repository's GitHub plan lets the program enforce, from GitHub's documented
 * limits (docs.github.com: "About rulesets", "Managing environments for deployment", "About secret
 * scanning"). A public repository has every feature on every plan; a private one has rulesets,
 * environments, their secrets and deployment branch policies on Team and Enterprise, required
 * reviewers and wait timers on Enterprise only, and secret scanning only with GitHub Advanced Security
 * (Secret Protection); an internal repository exists on Enterprise only. Pro is a personal account's
 * plan: it has no teams, and this program names teams, so the plans here are an organization's.
 */
import type { Environment } from "../config/names";

export const GITHUB_PLANS = ["free", "team", "enterprise"] as const;
export type GithubPlan = (typeof GITHUB_PLANS)[number];
export const REPOSITORY_VISIBILITIES = ["private", "internal", "public"] as const;
export type RepositoryVisibility = (typeof REPOSITORY_VISIBILITIES)[number];

/** What the program may create on a repository of this plan and visibility. */
export interface PlanCapabilities {
  rulesets: boolean;
  environments: boolean;
  /** Required reviewers and wait timers on environments. */
  protectionRules: boolean;
  secretScanning: boolean;
}

export interface PlanInput {
  plan: GithubPlan;
  visibility: RepositoryVisibility;
  advancedSecurity: boolean;
  reviewers: readonly string[];
  waitTimerMinutes: number;
}

export function planCapabilities(github: PlanInput): PlanCapabilities {
  if (github.visibility === "public")
    return { rulesets: true, environments: true, protectionRules: true, secretScanning: true };
  const paid = github.plan !== "free";
  return {
    rulesets: paid,
    environments: paid,
    protectionRules: github.plan === "enterprise",
    secretScanning: paid && github.advancedSecurity,
  };
}

/** A combination the program refuses: the key (under doc-rag:github), its value, and why. */
export interface PlanRefusal {
  path: string[];
  value: unknown;
  message: string;
}

/**
 * What the plan cannot do that this stack relies on. Refused: a repository without rulesets or
 * environments (nothing would protect main or hold the release's credentials), production's
 * reviewers where they cannot be enforced (they are the release's approval), and settings the plan
 * does not sell. Turned off with a warning: what only slows a release down or adds a scan.
 */
export function planFindings(
  environment: Environment,
  github: PlanInput,
): { refusals: PlanRefusal[]; warnings: string[] } {
  const can = planCapabilities(github);
  const refusals: PlanRefusal[] = [];
  const warnings: string[] = [];
  const where = `a ${github.visibility} repository on GitHub ${github.plan}`;
  if (github.visibility === "internal" && github.plan !== "enterprise") {
    refusals.push({
      path: ["visibility"],
      value: "internal",
      message: `needs plan enterprise: internal repositories exist only on GitHub Enterprise (plan is ${github.plan})`,
    });
    return { refusals, warnings };
  }
  if (!can.rulesets || !can.environments) {
    refusals.push({
      path: ["plan"],
      value: github.plan,
      message: `cannot protect ${where}: rulesets are not enforced and environments (their secrets and deployment branch policies) are not available there; use plan team or enterprise, or visibility public`,
    });
  }
  if (github.advancedSecurity && github.visibility !== "public" && github.plan === "free") {
    refusals.push({
      path: ["advancedSecurity"],
      value: true,
      message: "needs plan team or enterprise: GitHub sells Advanced Security (Secret Protection) only with those",
    });
  }
  if (!can.protectionRules) {
    if (github.reviewers.length > 0) {
      const message = `cannot be enforced on ${where}: required reviewers need GitHub Enterprise for a private or internal repository`;
      if (environment === "production")
        refusals.push({
          path: ["reviewers"],
          value: github.reviewers,
          message: `${message}, and they are production's release approval; use plan enterprise or visibility public`,
        });
      else warnings.push(`doc-rag:github.reviewers ${message}; ${environment} deploys without them`);
    }
    if (github.waitTimerMinutes > 0)
      warnings.push(
        `doc-rag:github.waitTimerMinutes (${github.waitTimerMinutes}) cannot be enforced on ${where} (wait timers need GitHub Enterprise); ${environment} deploys without it`,
      );
  }
  return { refusals, warnings };
}

/** The secret-scanning warning, for the one stack that manages the repository. */
export function secretScanningWarning(github: PlanInput): string | undefined {
  return planCapabilities(github).secretScanning
    ? undefined
    : `secret scanning and push protection are off: on a ${github.visibility} repository GitHub needs Advanced Security (Secret Protection) for them; set doc-rag:github.advancedSecurity to true once the organization has it`;
}
