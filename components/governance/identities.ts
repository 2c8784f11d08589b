/**
 * Who acts in Pulumi Cloud, as code: a team per actor, holding exactly the stack and environment
 * permissions its runs use (components/governance/access/ derives those runs and checks the two
 * against each other). No team has members; each is reached only through its token:
 * - a release stage's team, by the application repository's release job of that stage through OIDC
 *   (GitHub's token names the job's environment in its subject, and only a job the environment
 *   admitted gets one): it starts the app stack's deployments and writes the stage's release record;
 * - a deployer team per project stack, whose team token is that stack's deployments' PULUMI_ACCESS_TOKEN,
 *   so a deployment holds the same rights whatever started it (push, webhook, drift, the release);
 * - the preview team, whose token the platform repository's `preview` environment holds.
 * Team tokens (stored or by OIDC) need Pulumi Cloud's Enterprise or Business Critical edition.
 */
import * as pulumi from "@pulumi/pulumiservice";
import * as random from "@pulumi/random";
import type * as pulumiSdk from "@pulumi/pulumi";
import { RELEASE, RELEASE_TOKEN_SECONDS, releaseTeam } from "./pipeline";

export const GITHUB_ACTIONS_ISSUER = "https://token.actions.githubusercontent.com";

/** The subject GitHub gives a job of `environment` in `repository` (owner/name). */
export function environmentSubject(repository: string, environment: string): string {
  return `repo:${repository}:environment:${environment}`;
}

/** The team whose token a project stack's deployments run with. */
export const deployerTeam = (project: string, stack: string) => `${project}-${stack}-deployer`;
/** The team whose token policy-preview.yml previews staging's and production's stacks with. */
export const PREVIEW_TEAM = "doc-rag-preview";

/** A stack as Pulumi Cloud names it within the organization. */
export interface StackName {
  project: string;
  stack: string;
}
/** An ESC environment as Pulumi Cloud names it within the organization. */
export interface EnvironmentName {
  project: string;
  environment: string;
}

/** What a team may do: a permission set per stack and per environment. */
export interface TeamGrants {
  stacks: (StackName & { permission: "read" | "edit" })[];
  environments: (EnvironmentName & { permission: "open" | "write" })[];
}

const STACK_PERMISSION = {
  read: pulumi.TeamStackPermissionScope.Read,
  edit: pulumi.TeamStackPermissionScope.Edit,
} as const;
const ENVIRONMENT_PERMISSION = {
  open: pulumi.EnvironmentPermission.Open,
  write: pulumi.EnvironmentPermission.Write,
} as const;

/** The logical names of a team's grants, where a stack made before must keep them (else each is replaced). */
export interface GrantNames {
  stack: (grant: StackName) => string;
  environment: (grant: EnvironmentName) => string;
}

/** A team without members and its grants, each grant created once the team exists. */
export function teamWithGrants(
  name: string,
  args: { organization: string; team: string; displayName: string; description: string; grants: TeamGrants },
  opts: pulumiSdk.CustomResourceOptions,
  names: GrantNames = {
    stack: (g) => `${name}-stack-${g.project}-${g.stack}`,
    environment: (g) => `${name}-environment-${g.project}-${g.environment}`,
  },
): pulumi.Team {
  const team = new pulumi.Team(
    name,
    {
      organizationName: args.organization,
      teamType: "pulumi",
      name: args.team,
      displayName: args.displayName,
      description: args.description,
    },
    opts,
  );
  const afterTeam = { ...opts, dependsOn: [team] };
  for (const grant of args.grants.stacks)
    new pulumi.TeamStackPermission(
      names.stack(grant),
      {
        organization: args.organization,
        team: args.team,
        project: grant.project,
        stack: grant.stack,
        permission: STACK_PERMISSION[grant.permission],
      },
      afterTeam,
    );
  for (const grant of args.grants.environments)
    new pulumi.TeamEnvironmentPermission(
      names.environment(grant),
      {
        organization: args.organization,
        team: args.team,
        project: grant.project,
        environment: grant.environment,
        permission: ENVIRONMENT_PERMISSION[grant.permission],
      },
      afterTeam,
    );
  return team;
}

/**
 * A team's access token. Pulumi Cloud keeps a token's name taken forever, even once deleted
 * ("Team tokens" page), so each gets a random suffix: a stack destroyed and brought up again can
 * create its tokens anew.
 */
export function teamToken(
  name: string,
  args: { organization: string; team: pulumi.Team; teamName: string; description: string },
  opts: pulumiSdk.CustomResourceOptions,
): pulumi.TeamAccessToken {
  const suffix = new random.RandomId(`${name}-suffix`, { byteLength: 3, keepers: { team: args.teamName } }, opts);
  return new pulumi.TeamAccessToken(
    name,
    {
      organizationName: args.organization,
      teamName: args.teamName,
      name: suffix.hex.apply((hex) => `${args.teamName}-${hex}`),
      description: args.description,
    },
    { ...opts, dependsOn: [args.team] },
  );
}

export interface ReleaseIdentityArgs {
  organization: string;
  /** Each release stage's grants (the app stack it deploys, the record it writes). */
  grants: Record<(typeof RELEASE.environments)[number], TeamGrants>;
  /** The application repository, owner/name: its release jobs are the only callers. */
  applicationRepository: string;
}

/** The release stages' teams and the OIDC issuer that gives each stage's jobs its team's token. */
export function releaseIdentities(
  name: string,
  args: ReleaseIdentityArgs,
  opts: pulumiSdk.CustomResourceOptions,
): { issuer: pulumi.OidcIssuer; teams: pulumi.Team[] } {
  const teams = RELEASE.environments.map((stage) =>
    teamWithGrants(
      `${name}-${stage}-release-team`,
      {
        organization: args.organization,
        team: releaseTeam(stage),
        displayName: `doc-rag releases to ${stage}`,
        description: `The ${stage} release job of ${args.applicationRepository}, through OIDC; no members.`,
        grants: args.grants[stage],
      },
      opts,
      // The names the release grants had before every team was built this way: a new name would replace
      // each, and Pulumi deletes the old one after creating the new, taking the permission with it.
      { stack: () => `${name}-${stage}-release-stack`, environment: () => `${name}-${stage}-release-record` },
    ),
  );
  const issuer = new pulumi.OidcIssuer(
    `${name}-github-actions`,
    {
      organization: args.organization,
      name: `github-actions-${args.applicationRepository.replace("/", "-")}`,
      url: GITHUB_ACTIONS_ISSUER,
      maxExpirationSeconds: RELEASE_TOKEN_SECONDS,
      // Each stage's jobs get that stage's team, and nothing else: no organization or personal token.
      policies: RELEASE.environments.map((stage) => ({
        decision: pulumi.AuthPolicyDecision.Allow,
        tokenType: pulumi.AuthPolicyTokenType.Team,
        teamName: releaseTeam(stage),
        rules: {
          sub: environmentSubject(args.applicationRepository, stage),
          aud: `urn:pulumi:org:${args.organization}`,
        },
      })),
    },
    { ...opts, dependsOn: teams },
  );
  return { issuer, teams };
}
