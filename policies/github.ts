/**
 * GitHub governance as the Pulumi GitHub provider declares it: the default branch reaches
 * OpenSSF Scorecard's Branch-Protection maximum, production deployments need a second person,
 * and the repository has its security features on.
 */
import type { PolicyResource } from "@pulumi/policy";
import { failing, resourceRule, stackRule } from "./lib/policy";

const REPOSITORY = "github:index/repository:Repository";
const RULESET = "github:index/repositoryRuleset:RepositoryRuleset";
const ENVIRONMENT = "github:index/repositoryEnvironment:RepositoryEnvironment";
const FILE = "github:index/repositoryFile:RepositoryFile";

/** Where GitHub looks for a CODEOWNERS file. */
const CODEOWNERS_PATHS = ["CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS"];

export interface RulesetProps {
  name?: string;
  repository?: string;
  target?: string;
  enforcement?: string;
  conditions?: { refName?: { includes?: string[]; excludes?: string[] } };
  bypassActors?: unknown[];
  rules?: {
    deletion?: boolean;
    nonFastForward?: boolean;
    pullRequest?: {
      requiredApprovingReviewCount?: number;
      dismissStaleReviewsOnPush?: boolean;
      requireCodeOwnerReview?: boolean;
      requireLastPushApproval?: boolean;
    };
    requiredStatusChecks?: { requiredChecks?: unknown[]; strictRequiredStatusChecksPolicy?: boolean };
  };
}

interface BranchConfig {
  defaultBranch: string;
  minApprovals: number;
}

/** What the default branch's ruleset lacks against Scorecard's Branch-Protection maximum. */
export function branchProtectionGaps(ruleset: RulesetProps, minApprovals: number): string[] {
  const rules = ruleset.rules ?? {};
  const pr = rules.pullRequest;
  const checks = [
    [ruleset.enforcement === "active", `enforcement is ${JSON.stringify(ruleset.enforcement)}; required: "active"`],
    [rules.nonFastForward === true, "force pushes are not blocked (rules.nonFastForward)"],
    [rules.deletion === true, "branch deletion is not blocked (rules.deletion)"],
    [pr !== undefined, "pull requests are not required (rules.pullRequest)"],
    [
      (pr?.requiredApprovingReviewCount ?? 0) >= minApprovals,
      `rules.pullRequest.requiredApprovingReviewCount is ${pr?.requiredApprovingReviewCount ?? 0}; required: at least ${minApprovals}`,
    ],
    [
      pr?.dismissStaleReviewsOnPush === true,
      "stale approvals are not dismissed (rules.pullRequest.dismissStaleReviewsOnPush)",
    ],
    [
      pr?.requireCodeOwnerReview === true,
      "code-owner review is not required (rules.pullRequest.requireCodeOwnerReview)",
    ],
    [
      pr?.requireLastPushApproval === true,
      "the last push need not be approved by someone else (rules.pullRequest.requireLastPushApproval)",
    ],
    [
      (rules.requiredStatusChecks?.requiredChecks ?? []).length > 0,
      "no status checks are required (rules.requiredStatusChecks)",
    ],
    [
      rules.requiredStatusChecks?.strictRequiredStatusChecksPolicy === true,
      "branches need not be up to date before merging (rules.requiredStatusChecks.strictRequiredStatusChecksPolicy)",
    ],
    [
      (ruleset.bypassActors ?? []).length === 0,
      `${(ruleset.bypassActors ?? []).length} bypass actor(s) may skip the rules (bypassActors)`,
    ],
  ] as const;
  return checks.filter(([ok]) => !ok).map(([, message]) => message);
}

export const githubBranchProtection = stackRule({
  name: "github-branch-protection",
  description:
    "Each managed repository's default branch has an active ruleset at OpenSSF Scorecard's Branch-Protection maximum: no force push or deletion, pull requests with enough approvals, stale approvals dismissed, code-owner review (with CODEOWNERS managed in the stack), approval of the last push, required and up-to-date status checks, no bypass actors.",
  category: "security",
  configSchema: {
    properties: {
      defaultBranch: {
        type: "string",
        default: "main",
        description: "The default branch's name (rulesets may also target ~DEFAULT_BRANCH).",
      },
      minApprovals: {
        type: "integer",
        minimum: 1,
        default: 2,
        description: "Fewest approving reviews a pull request needs.",
      },
    },
  },
  validateStack: (args, reportViolation) => {
    const config = args.getConfig<BranchConfig>();
    const repositories = args.resources.filter((r) => r.type === REPOSITORY);
    const targetsDefault = (r: PolicyResource) => {
      const props = r.props as RulesetProps;
      const includes = props.conditions?.refName?.includes ?? [];
      return (
        props.target === "branch" &&
        (includes.includes("~DEFAULT_BRANCH") || includes.includes(`refs/heads/${config.defaultBranch}`))
      );
    };
    const rulesets = args.resources.filter((r) => r.type === RULESET && targetsDefault(r));
    if (!repositories.length && !rulesets.length) return args.notApplicable("the stack manages no GitHub repository");
    const codeowners = new Set(
      args.resources
        .filter((r) => r.type === FILE && CODEOWNERS_PATHS.includes(String(r.props.file)))
        .map((r) => String(r.props.repository)),
    );
    for (const repo of repositories) {
      const name = String(repo.props.name ?? repo.name);
      if (!rulesets.some((r) => r.props.repository === name)) {
        reportViolation(
          `repository ${name}: no ruleset protects the default branch (${config.defaultBranch})`,
          repo.urn,
        );
      }
    }
    for (const ruleset of rulesets) {
      const props = ruleset.props as RulesetProps;
      const where = `ruleset ${props.name ?? ruleset.name} on ${props.repository}`;
      for (const gap of branchProtectionGaps(props, config.minApprovals))
        reportViolation(`${where}: ${gap}`, ruleset.urn);
      if (props.rules?.pullRequest?.requireCodeOwnerReview && !codeowners.has(String(props.repository))) {
        reportViolation(
          `${where}: code-owner review is required but no CODEOWNERS file (${CODEOWNERS_PATHS.join(", ")}) is managed for the repository`,
          ruleset.urn,
        );
      }
    }
  },
});

interface EnvironmentConfig {
  protectedEnvironments: string[];
}

export const githubEnvironmentProtection = resourceRule<EnvironmentConfig>({
  name: "github-environment-protection",
  description:
    "Protected deployment environments (production) need required reviewers, forbid self-review and admin bypass, and deploy only from protected branches or tags.",
  category: "security",
  types: [ENVIRONMENT],
  configSchema: {
    properties: {
      protectedEnvironments: {
        type: "array",
        items: { type: "string" },
        default: ["production"],
        description: "Environments that need these protections.",
      },
    },
  },
  check: (props, config, args) => {
    const env = props as {
      environment?: string;
      reviewers?: { users?: number[]; teams?: number[] }[];
      preventSelfReview?: boolean;
      canAdminsBypass?: boolean;
      deploymentBranchPolicy?: { protectedBranches?: boolean; customBranchPolicies?: boolean };
    };
    if (!config.protectedEnvironments.includes(env.environment ?? ""))
      return args.notApplicable(`environment ${env.environment} is not protected`);
    const reviewers = (env.reviewers ?? []).reduce((n, r) => n + (r.users?.length ?? 0) + (r.teams?.length ?? 0), 0);
    const policy = env.deploymentBranchPolicy;
    return failing(
      reviewers === 0 && "has no required reviewers",
      env.preventSelfReview !== true && "lets the author approve their own deployment (preventSelfReview)",
      env.canAdminsBypass !== false && "lets admins bypass the protection (canAdminsBypass must be false)",
      !(policy?.protectedBranches || policy?.customBranchPolicies) &&
        "deploys from any branch (deploymentBranchPolicy: protectedBranches, or custom branch and tag policies)",
    ).map((problem) => `environment ${env.environment}: ${problem}`);
  },
});

interface RepositoryConfig {
  allowPublic: boolean;
}

export const githubRepositorySecurity = resourceRule<RepositoryConfig>({
  name: "github-repository-security",
  description:
    "Managed repositories have vulnerability alerts, secret scanning and push protection on, and are not public unless the config allows it.",
  category: "security",
  types: [REPOSITORY],
  configSchema: {
    properties: { allowPublic: { type: "boolean", default: false, description: "Allow public visibility." } },
  },
  check: (props, config) => {
    const repo = props as {
      name?: string;
      visibility?: string;
      private?: boolean;
      vulnerabilityAlerts?: boolean;
      securityAndAnalysis?: {
        secretScanning?: { status?: string };
        secretScanningPushProtection?: { status?: string };
      };
    };
    // GitHub creates a repository public when neither visibility nor private says otherwise.
    const visibility = repo.visibility ?? (repo.private ? "private" : "public");
    const analysis = repo.securityAndAnalysis ?? {};
    return failing(
      repo.vulnerabilityAlerts !== true && "vulnerability alerts are off (vulnerabilityAlerts)",
      analysis.secretScanning?.status !== "enabled" && "secret scanning is off (securityAndAnalysis.secretScanning)",
      analysis.secretScanningPushProtection?.status !== "enabled" &&
        "push protection is off (securityAndAnalysis.secretScanningPushProtection)",
      visibility === "public" && !config.allowPublic && "is public (set visibility: private or internal)",
    ).map((problem) => `repository ${repo.name}: ${problem}`);
  },
});

export const githubPolicies = [githubBranchProtection, githubEnvironmentProtection, githubRepositorySecurity];
