import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";
import { PROJECT as ESC_PROJECT } from "../config/names";
import { PROGRAM_VARIABLES, type Environment, type GithubConfig } from "../config";
import { deploymentSources, RELEASE } from "./pipeline";
import { workflowFiles } from "./workflows";
import { keepData } from "../protection";
import { planCapabilities, planFindings, secretScanningWarning } from "./plan";
import { managedFilesProposal, requiredChecksOf } from "./proposal";

/** The GitHub Actions app's id: the one integration whose checks the rulesets accept. */
export const GITHUB_ACTIONS_APP_ID = 15368;

export interface GitHubGovernanceArgs {
  environment: Exclude<Environment, "dev">;
  config: GithubConfig & { manageRepository: boolean };
  /** From secret config; without it the provider reads GITHUB_TOKEN. */
  token?: string;
  /** The environment's secrets from secret config. */
  environmentSecrets: Record<string, string>;
  /** protect + retainOnDelete on the repository. */
  protect: boolean;
  /** The Pulumi project a release deploys: the app project, or this one for a single stack. */
  releaseProject?: string;
}

/** The branches a ruleset protects, and the approvals each needs. */
export const PROTECTED_BRANCHES = [
  { branch: "main", approvals: 2 },
  { branch: "develop", approvals: 1 },
] as const;

/** GitHub's id of the repository admin role, the release managers when no team is named. */
const REPOSITORY_ADMIN_ROLE = 5;

/**
 * The application repository on GitHub, as this stack governs it: the environment named after
 * the stack (reviewers, no self-review or admin bypass, where it deploys from, its secrets and
 * variables) and, in exactly one stack, the repository-wide settings, CODEOWNERS and the
 * rulesets for main and develop, whose required checks come from the pipeline model.
 */
export class GitHubGovernance extends pulumi.ComponentResource {
  readonly requiredChecks: string[];

  constructor(name: string, args: GitHubGovernanceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("doc-rag:governance:GitHubGovernance", name, {}, opts);
    const cfg = args.config;
    const provider = new github.Provider(
      `${name}-provider`,
      { owner: cfg.owner, ...(args.token ? { token: pulumi.secret(args.token) } : {}) },
      { parent: this },
    );
    const child = { parent: this, provider };
    const repository = cfg.repository;
    const env = args.environment;

    // What the plan cannot enforce is off, with a warning (what it must enforce, the config refused).
    const can = planCapabilities(cfg);
    for (const warning of planFindings(env, cfg).warnings) void pulumi.log.warn(warning, this);
    const teamIds = can.protectionRules ? cfg.reviewers.map((slug) => this.teamId(slug, provider)) : [];
    const environment = new github.RepositoryEnvironment(
      `${name}-environment`,
      {
        repository,
        environment: env,
        ...(teamIds.length ? { reviewers: [{ teams: teamIds }] } : {}),
        preventSelfReview: true,
        canAdminsBypass: false,
        waitTimer: can.protectionRules ? cfg.waitTimerMinutes : 0,
        deploymentBranchPolicy: { protectedBranches: false, customBranchPolicies: true },
      },
      child,
    );
    const afterEnvironment = { ...child, dependsOn: [environment] };
    // Exactly the refs the release workflow's jobs run on: its tags.
    deploymentSources(env).forEach((source, i) => {
      new github.RepositoryEnvironmentDeploymentPolicy(
        `${name}-deploys-from-${i}`,
        { repository, environment: env, ...source },
        afterEnvironment,
      );
    });
    for (const [secretName, value] of Object.entries(args.environmentSecrets)) {
      new github.ActionsEnvironmentSecret(
        `${name}-secret-${secretName.toLowerCase()}`,
        { repository, environment: env, secretName, value: pulumi.secret(value) },
        afterEnvironment,
      );
    }
    // What the release workflow reads (WORKFLOW_INPUTS in pipeline.ts): where the stack is in Pulumi Cloud.
    // The config refuses a user variable of any of these names (PROGRAM_VARIABLES).
    const own: Record<keyof typeof PROGRAM_VARIABLES, pulumi.Input<string>> = {
      ENVIRONMENT: env,
      PULUMI_ORGANIZATION: pulumi.getOrganization(),
      PULUMI_PROJECT: args.releaseProject ?? pulumi.getProject(),
      PULUMI_ESC_PROJECT: ESC_PROJECT,
    };
    const variables = { ...own, ...cfg.variables };
    for (const [variableName, value] of Object.entries(variables)) {
      new github.ActionsEnvironmentVariable(
        `${name}-variable-${variableName.toLowerCase()}`,
        { repository, environment: env, variableName, value },
        afterEnvironment,
      );
    }

    // Exactly the checks the committed workflows produce on a pull request: none without them.
    this.requiredChecks = cfg.commitWorkflows ? requiredChecksOf(workflowFiles()) : [];
    if (cfg.manageRepository) this.repositoryWide(name, args, child);
    this.registerOutputs({ requiredChecks: this.requiredChecks });
  }

  /** A team's numeric id, which environments and rulesets take, looked up by its slug. */
  private teamId(slug: string, provider: pulumi.ProviderResource | undefined): pulumi.Output<number> {
    return github.getTeamOutput({ slug, summaryOnly: true }, { parent: this, provider }).id.apply(Number);
  }

  /** Settings no two stacks may both own: the repository, CODEOWNERS, the rulesets. */
  private repositoryWide(name: string, args: GitHubGovernanceArgs, child: pulumi.CustomResourceOptions): void {
    const cfg = args.config;
    const secretScanning = secretScanningWarning(cfg);
    if (secretScanning) void pulumi.log.warn(secretScanning, this);
    const repo = new github.Repository(
      `${name}-repository`,
      {
        name: cfg.repository,
        visibility: cfg.visibility,
        vulnerabilityAlerts: true,
        // Without Advanced Security on a private repository GitHub answers 422: left unset there.
        ...(secretScanning
          ? {}
          : {
              securityAndAnalysis: {
                // On a private or internal repository GitHub answers 422 to secret scanning unless Advanced
                // Security is enabled in the same request; a public one has it always and refuses the field.
                ...(cfg.visibility === "public" ? {} : { advancedSecurity: { status: "enabled" } }),
                secretScanning: { status: "enabled" },
                secretScanningPushProtection: { status: "enabled" },
              },
            }),
        allowSquashMerge: true,
        allowMergeCommit: false,
        allowRebaseMerge: false,
        squashMergeCommitTitle: "PR_TITLE",
        squashMergeCommitMessage: "PR_BODY",
        deleteBranchOnMerge: true,
        hasIssues: true,
      },
      { ...child, ...keepData(args.protect) },
    );
    const afterRepo = { ...child, dependsOn: [repo] };
    new github.RepositoryDependabotSecurityUpdates(
      `${name}-dependabot-security-updates`,
      { repository: repo.name, enabled: true },
      afterRepo,
    );
    // CODEOWNERS and the workflows reach main as a pull request under main's own ruleset: no bypass.
    managedFilesProposal(
      name,
      {
        repository: repo.name,
        files: {
          ".github/CODEOWNERS": `# Managed by doc-rag-platform (Pulumi); changes here are overwritten.\n* ${cfg.codeOwners
            .map((team) => `@${cfg.owner}/${team}`)
            .join(" ")}\n`,
          ...(cfg.commitWorkflows ? workflowFiles() : {}),
        },
      },
      afterRepo,
    );
    if (!cfg.commitWorkflows)
      void pulumi.log.warn(
        "doc-rag:github.commitWorkflows is false: the rulesets require no status check, and no release workflow runs on a tag",
        this,
      );
    for (const { branch, approvals } of PROTECTED_BRANCHES) {
      new github.RepositoryRuleset(
        `${name}-ruleset-${branch}`,
        {
          name: `protect-${branch}`,
          repository: repo.name,
          target: "branch",
          enforcement: "active",
          conditions: { refName: { includes: [`refs/heads/${branch}`], excludes: [] } },
          rules: {
            deletion: true,
            nonFastForward: true,
            requiredLinearHistory: true,
            pullRequest: {
              requiredApprovingReviewCount: approvals,
              dismissStaleReviewsOnPush: true,
              requireCodeOwnerReview: true,
              requireLastPushApproval: true,
              requiredReviewThreadResolution: true,
            },
            ...(this.requiredChecks.length
              ? {
                  requiredStatusChecks: {
                    strictRequiredStatusChecksPolicy: true,
                    // Pinned to the GitHub Actions app: no other actor with status write access can post a
                    // passing check of the same name.
                    requiredChecks: this.requiredChecks.map((context) => ({
                      context,
                      integrationId: GITHUB_ACTIONS_APP_ID,
                    })),
                  },
                }
              : {}),
          },
          // Nobody bypasses a protected branch, the program included: its files arrive by pull request.
          bypassActors: [],
        },
        afterRepo,
      );
    }
    this.releaseTags(name, args, repo, afterRepo);
  }

  /** Release tags: only release managers may create, move or delete one; everyone else is refused. */
  private releaseTags(
    name: string,
    args: GitHubGovernanceArgs,
    repo: github.Repository,
    opts: pulumi.CustomResourceOptions,
  ): void {
    const teams = args.config.releaseManagers.map((slug) => this.teamId(slug, opts.provider));
    new github.RepositoryRuleset(
      `${name}-ruleset-release-tags`,
      {
        name: "protect-release-tags",
        repository: repo.name,
        target: "tag",
        enforcement: "active",
        conditions: { refName: { includes: [RELEASE.tagRefs], excludes: [] } },
        bypassActors: teams.length
          ? teams.map((actorId) => ({ actorId, actorType: "Team", bypassMode: "always" }))
          : [{ actorId: REPOSITORY_ADMIN_ROLE, actorType: "RepositoryRole", bypassMode: "always" }],
        rules: { creation: true, update: true, deletion: true },
      },
      opts,
    );
  }
}
