import * as pulumi from "@pulumi/pulumi";
import * as pulumiservice from "@pulumi/pulumiservice";
import type { DeploymentsConfig } from "../config/deployments";
import { escEnvironments } from "../config/esc";
import { LAYER_READS, LAYERS, PROJECTS, type Layer } from "../environment/projects";
import {
  deployerTeam,
  PREVIEW_TEAM,
  releaseIdentities,
  teamToken,
  teamWithGrants,
  type TeamGrants,
} from "./identities";
import { RELEASE, releaseEnvironmentName, type ReleaseEnvironment } from "./pipeline";

/**
 * How each environment is deployed by Pulumi Deployments, project by project (projects/<layer>).
 * Staging follows main: a merge deploys its cluster and governance stacks, and each successful
 * update deploys the next layer (cluster → data → app, DEPLOYS_NEXT). Production never deploys on
 * a merge: the release workflow deploys its app stack behind the environment's reviewers, and its
 * other projects are deployed by hand (`npm run up -- production`). No pull-request previews: a
 * preview runs the pull request's code with the stack's credentials, so staging and production
 * are previewed only by policy-preview.yml, after a reviewer lets the run use them.
 */
export const DEPLOYED_STACKS = {
  // Staging is not a review-stack template: a copy of its config would fight staging over its
  // namespaces, Vault and GitHub.
  staging: { deployCommits: ["cluster", "governance"] },
  production: { deployCommits: [] },
} as const satisfies Record<string, { deployCommits: readonly Layer[] }>;

/** The layer whose successful update deploys the next one's stack of the same environment. */
export const DEPLOYS_NEXT: Readonly<Partial<Record<Layer, Layer>>> = { cluster: "data", data: "app" };

/**
 * The review-stack template (Pulumi.pr.yaml): never deployed itself. For each pull request, after
 * a reviewer approves the run, review-stack.yml copies its config and these settings (for the TTL's
 * destroy) into a review stack and brings it up; it destroys it when the pull request closes, and
 * each copy sets its own TTL.
 */
export const REVIEW_TEMPLATE = {
  stack: "pr",
  // Not a template Deployments copy on every push: that would run a pull request's code with the
  // stack's credentials before anyone read it. review-stack.yml brings each one up after approval.
  triggers: { deployCommits: false, previewPullRequests: false, pullRequestTemplate: false },
} as const;

/** What a deployment installs before it runs, from the project's folder: the program's packages and the pack's. */
export function installCommands(repoDir: string): string[] {
  const root =
    repoDir === "."
      ? "."
      : repoDir
          .split("/")
          .map(() => "..")
          .join("/");
  return [`npm ci --prefix ${root}`, `npm ci --prefix ${root === "." ? "" : `${root}/`}policies`];
}

export interface PolicyPackSource {
  name: string;
  version: string;
  /** Where the pack's program is, relative to the deployments program. */
  sourcePath: string;
  /** Each stack's policy config (policies/config/<stack>.json). */
  configs: Record<keyof typeof DEPLOYED_STACKS, Record<string, unknown>>;
}

/** Open on every ESC environment a stack's file imports: what a preview or an update of it opens. */
function openImports(stack: string, escProject: string): TeamGrants["environments"] {
  return escEnvironments(stack).map((e) => ({ project: escProject, environment: e.name, permission: "open" }));
}

/** The grants a project stack's deployments need: edit on the stack, read on those it reads, open on what its file imports. */
export function deployerGrants(layer: Layer, stack: string, escProject: string): TeamGrants {
  return {
    stacks: [
      { project: PROJECTS[layer], stack, permission: "edit" },
      ...LAYER_READS[layer].map((read) => ({ project: PROJECTS[read], stack, permission: "read" as const })),
    ],
    environments: openImports(stack, escProject),
  };
}

/** A release stage's grants: edit on the app stack (its deployments), write on its release record. */
export function releaseGrants(stage: ReleaseEnvironment, escProject: string): TeamGrants {
  return {
    stacks: [{ project: PROJECTS.app, stack: stage, permission: "edit" }],
    environments: [{ project: escProject, environment: releaseEnvironmentName(stage), permission: "write" }],
  };
}

/** The preview team's grants: read on every deployed project stack, open on what their files import. */
export function previewGrants(escProject: string): TeamGrants {
  const stacks = Object.keys(DEPLOYED_STACKS);
  return {
    stacks: stacks.flatMap((stack) =>
      LAYERS.map((layer) => ({ project: PROJECTS[layer], stack, permission: "read" as const })),
    ),
    environments: stacks.flatMap((stack) => openImports(stack, escProject)),
  };
}

/**
 * Pulumi Deployments for the platform's stacks, managed from the separate deployments program:
 * deployment settings (source, triggers, the commands that install the program and its policy
 * pack, the stack's own deployer token), the ESC environments the stack files import, drift
 * detection on a schedule, the policy pack published and enforced per environment with that
 * environment's config, the identities every run acts as, and the review-stack template's settings.
 */
export class PulumiDeployments extends pulumi.ComponentResource {
  /** The preview team's token, for the platform repository's `preview` environment (policy-preview.yml). */
  readonly previewToken: pulumi.Output<string>;

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

    const settings = (
      key: string,
      target: { project: string; stack: string; repoDir: string },
      triggers: { deployCommits: boolean; previewPullRequests: boolean; pullRequestTemplate: boolean },
      environmentVariables?: pulumi.Output<Record<string, string>>,
    ) =>
      new pulumiservice.DeploymentSettings(
        `${name}-${key}-settings`,
        {
          organization: cfg.organization,
          project: target.project,
          stack: target.stack,
          sourceContext: { git: { branch: `refs/heads/${cfg.branch}`, repoDir: target.repoDir } },
          vcs: { provider: "github", repository: cfg.repository, ...triggers },
          operationContext: {
            // The program's packages and the pack's, from the repository root; the projects have none of their own.
            preRunCommands: installCommands(target.repoDir),
            options: { skipIntermediateDeployments: true, skipInstallDependencies: true },
            ...(environmentVariables ? { environmentVariables } : {}),
          },
        },
        child,
      );

    for (const [stack, deployed] of Object.entries(DEPLOYED_STACKS) as [
      keyof typeof DEPLOYED_STACKS,
      (typeof DEPLOYED_STACKS)[keyof typeof DEPLOYED_STACKS],
    ][]) {
      for (const layer of LAYERS) {
        const project = PROJECTS[layer];
        const target = { organization: cfg.organization, project, stack };
        // Whatever starts a deployment of this stack (a push, a webhook, drift detection, the release's
        // REST call), it runs as this token: "If this environment variable is set, it will be used
        // regardless of how the deployment was created" (Pulumi docs, Deployments: Deployment Permissions).
        const team = deployerTeam(project, stack);
        const deployer = teamWithGrants(
          `${name}-${layer}-${stack}-deployer`,
          {
            organization: cfg.organization,
            team,
            displayName: `deployments of ${project}/${stack}`,
            description: `The token ${project}/${stack}'s deployments run as; no members.`,
            grants: deployerGrants(layer, stack, cfg.project),
          },
          child,
        );
        const token = teamToken(
          `${name}-${layer}-${stack}-deployer-token`,
          {
            organization: cfg.organization,
            team: deployer,
            teamName: team,
            description: `PULUMI_ACCESS_TOKEN of ${project}/${stack}'s deployments`,
          },
          child,
        );
        const credentials = cfg.credentials[stack]?.[layer] ?? {};
        const deploymentSettings = settings(
          `${layer}-${stack}`,
          { project, stack, repoDir: `projects/${layer}` },
          {
            deployCommits: (deployed.deployCommits as readonly Layer[]).includes(layer),
            previewPullRequests: false,
            pullRequestTemplate: false,
          },
          pulumi.secret(
            token.value.apply((value): Record<string, string> => ({ ...credentials, PULUMI_ACCESS_TOKEN: value })),
          ),
        );
        // Pulumi Cloud refuses a schedule on a stack without deployment settings.
        new pulumiservice.DriftSchedule(
          `${name}-${layer}-${stack}-drift`,
          { ...target, scheduleCron: cfg.driftSchedule, autoRemediate: false },
          { ...child, dependsOn: [deploymentSettings] },
        );
        const next = DEPLOYS_NEXT[layer];
        if (next && stack === "staging") {
          // A successful update of this layer deploys the next one: the order `npm run up` keeps.
          new pulumiservice.Webhook(
            `${name}-${layer}-${stack}-deploys-${next}`,
            {
              organizationName: cfg.organization,
              projectName: project,
              stackName: stack,
              displayName: `deploy ${PROJECTS[next]}/${stack}`,
              format: pulumiservice.WebhookFormat.PulumiDeployments,
              payloadUrl: `${PROJECTS[next]}/${stack}`,
              filters: [pulumiservice.WebhookFilters.UpdateSucceeded],
              active: true,
            },
            child,
          );
        }
      }
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
      // One policy group per environment: every project's stack, each judged with the environment's config.
      new pulumiservice.PolicyGroup(
        `${name}-${stack}-policies`,
        {
          organizationName: cfg.organization,
          name: `${cfg.project}-${stack}`,
          entityType: "stacks",
          mode: "preventative",
          stacks: LAYERS.map((layer) => ({ name: stack, routingProject: PROJECTS[layer] })),
          policyPacks: [
            { name: args.policyPack.name, versionTag: args.policyPack.version, config: args.policyPack.configs[stack] },
          ],
        },
        { ...child, dependsOn: [pack] },
      );
    }
    // The release jobs' identities: one team per stage, reached through OIDC only.
    releaseIdentities(
      name,
      {
        organization: cfg.organization,
        applicationRepository: cfg.applicationRepository,
        grants: Object.fromEntries(
          RELEASE.environments.map((stage) => [stage, releaseGrants(stage, cfg.project)]),
        ) as Record<ReleaseEnvironment, TeamGrants>,
      },
      child,
    );
    // The preview job's identity: read on the stacks it previews, open on what they import.
    const previewTeam = teamWithGrants(
      `${name}-preview-team`,
      {
        organization: cfg.organization,
        team: PREVIEW_TEAM,
        displayName: "doc-rag previews",
        description: `policy-preview.yml of ${cfg.repository}: previews staging's and production's stacks; no members.`,
        grants: previewGrants(cfg.project),
      },
      child,
    );
    this.previewToken = pulumi.secret(
      teamToken(
        `${name}-preview-token`,
        {
          organization: cfg.organization,
          team: previewTeam,
          teamName: PREVIEW_TEAM,
          description: "PULUMI_ACCESS_TOKEN of the preview environment",
        },
        child,
      ).value,
    );
    // No drift detection or policy group of its own: the template never runs, and its copies'
    // names are only known when review-stack.yml creates them.
    // Review stacks are single stacks of the root project: every layer, created and destroyed together.
    settings(
      REVIEW_TEMPLATE.stack,
      { project: cfg.project, stack: REVIEW_TEMPLATE.stack, repoDir: "." },
      REVIEW_TEMPLATE.triggers,
    );
    this.registerOutputs({ previewToken: this.previewToken });
  }
}
