import * as pulumi from "@pulumi/pulumi";
import * as pulumiservice from "@pulumi/pulumiservice";
import type { DeploymentsConfig } from "../config/deployments";
import { escEnvironments } from "../config/esc";

/** How each platform stack is deployed by Pulumi Deployments. */
export const DEPLOYED_STACKS = {
  // A merge to main updates staging. Staging is not a review-stack template: a copy of its config
  // would fight staging over its namespaces, Vault and GitHub. No pull-request previews here: a
  // preview runs the pull request's code with the stack's secrets, so staging and production are
  // previewed only by policy-preview.yml, after a reviewer lets the run use them.
  staging: { deployCommits: true, previewPullRequests: false, pullRequestTemplate: false },
  // Production never deploys on a merge: the release workflow deploys it, behind its reviewers.
  production: { deployCommits: false, previewPullRequests: false, pullRequestTemplate: false },
} as const;

/**
 * The review-stack template (Pulumi.pr.yaml): never deployed itself. For each pull request
 * against the branch, Deployments copies its config and settings into a review stack, updates it
 * on every push and destroys it when the pull request closes; each copy sets its own TTL.
 */
export const REVIEW_TEMPLATE = {
  stack: "pr",
  triggers: { deployCommits: false, previewPullRequests: false, pullRequestTemplate: true },
} as const;

export interface PolicyPackSource {
  name: string;
  version: string;
  /** Where the pack's program is, relative to the deployments program. */
  sourcePath: string;
  /** Each stack's policy config (policies/config/<stack>.json). */
  configs: Record<keyof typeof DEPLOYED_STACKS, Record<string, unknown>>;
}

/**
 * Pulumi Deployments for the platform's stacks, managed from the separate deployments program:
 * deployment settings (source, triggers, the commands that install the program and its policy
 * pack), the ESC environment that records the release each stack runs, drift detection on a schedule, the policy pack published and enforced per stack with
 * that stack's config, so every preview and update in Deployments runs the pack, and the
 * review-stack template's settings.
 */
export class PulumiDeployments extends pulumi.ComponentResource {
  constructor(
    name: string,
    args: { config: DeploymentsConfig; policyPack: PolicyPackSource },
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("doc-rag:governance:PulumiDeployments", name, {}, opts);
    const cfg = args.config;
    const child = { parent: this };
    const pack = new pulumiservice.PolicyPack(
      `${name}-policy-pack`,
      {
        organization: cfg.organization,
        name: args.policyPack.name,
        versionTag: args.policyPack.version,
        sourcePath: args.policyPack.sourcePath,
      },
      child,
    );

    const settings = (stack: string, triggers: pulumiservice.types.input.DeploymentSettingsGithubArgs) =>
      new pulumiservice.DeploymentSettings(
        `${name}-${stack}-settings`,
        {
          organization: cfg.organization,
          project: cfg.project,
          stack,
          sourceContext: { git: { branch: `refs/heads/${cfg.branch}`, repoDir: "." } },
          github: { repository: cfg.repository, ...triggers },
          operationContext: {
            // The pack has its own package; Deployments install the program's.
            preRunCommands: ["npm ci --prefix policies"],
            options: { skipIntermediateDeployments: true },
          },
        },
        child,
      );

    for (const [stack, triggers] of Object.entries(DEPLOYED_STACKS) as [
      keyof typeof DEPLOYED_STACKS,
      (typeof DEPLOYED_STACKS)[keyof typeof DEPLOYED_STACKS],
    ][]) {
      const target = { organization: cfg.organization, project: cfg.project, stack };
      settings(stack, triggers);
      // The ESC environments the stack file imports: the release (the application's release
      // workflow writes it with `pulumi env set`) and, in production, the alert receivers (the
      // on-call team sets them). This program only creates them, and never resets what they hold.
      for (const environment of escEnvironments(stack))
        new pulumiservice.Environment(
          `${name}-${environment.name}`,
          {
            organization: cfg.organization,
            project: cfg.project,
            name: environment.name,
            yaml: new pulumi.asset.StringAsset(`# ${environment.holds}\nvalues:\n  pulumiConfig: {}\n`),
          },
          { ...child, ignoreChanges: ["yaml"] },
        );
      new pulumiservice.DriftSchedule(
        `${name}-${stack}-drift`,
        { ...target, scheduleCron: cfg.driftSchedule, autoRemediate: false },
        child,
      );
      new pulumiservice.PolicyGroup(
        `${name}-${stack}-policies`,
        {
          organizationName: cfg.organization,
          name: `${cfg.project}-${stack}`,
          entityType: "stacks",
          mode: "preventative",
          stacks: [{ name: stack, routingProject: cfg.project }],
          policyPacks: [
            { name: args.policyPack.name, versionTag: args.policyPack.version, config: args.policyPack.configs[stack] },
          ],
        },
        { ...child, dependsOn: [pack] },
      );
    }
    // No drift detection or policy group of its own: the template never runs, and its copies'
    // names are only known when Deployments creates them.
    settings(REVIEW_TEMPLATE.stack, REVIEW_TEMPLATE.triggers);
    this.registerOutputs({});
  }
}
