/**
 * Who may act in Pulumi Cloud for a release, as code: one team per stage, reachable only by the
 * application repository's release jobs of that stage through OIDC (GitHub's token names the job's
 * environment in its subject, and only a job the environment admitted gets one), and allowed exactly
 * that stage's release record (ESC write) and app stack (edit: deployments). No stored token.
 * Team tokens by OIDC need Pulumi Cloud's Enterprise or Business Critical edition.
 */
import * as pulumi from "@pulumi/pulumiservice";
import type * as pulumiSdk from "@pulumi/pulumi";
import { PROJECTS } from "../environment/projects";
import { RELEASE, releaseEnvironmentName, releaseTeam, type ReleaseEnvironment } from "./pipeline";

export const GITHUB_ACTIONS_ISSUER = "https://token.actions.githubusercontent.com";
/** How long an exchanged token lives: the longest release job (releaseScript.ts asks for as much). */
export const RELEASE_TOKEN_SECONDS = 7200;

/** The subject GitHub gives a job of `environment` in `repository` (owner/name). */
export function environmentSubject(repository: string, environment: string): string {
  return `repo:${repository}:environment:${environment}`;
}

export interface ReleaseIdentityArgs {
  organization: string;
  /** The ESC project of the release records (the root project's name). */
  escProject: string;
  /** The application repository, owner/name: its release jobs are the only callers. */
  applicationRepository: string;
}

export function releaseIdentities(
  name: string,
  args: ReleaseIdentityArgs,
  opts: pulumiSdk.CustomResourceOptions,
): { issuer: pulumi.OidcIssuer; teams: Record<ReleaseEnvironment, pulumi.Team> } {
  const teams = {} as Record<ReleaseEnvironment, pulumi.Team>;
  for (const stage of RELEASE.environments) {
    const team = new pulumi.Team(
      `${name}-${stage}-release-team`,
      {
        organizationName: args.organization,
        teamType: "pulumi",
        name: releaseTeam(stage),
        displayName: `doc-rag releases to ${stage}`,
        description: `The ${stage} release job of ${args.applicationRepository}, through OIDC; no members.`,
      },
      opts,
    );
    const afterTeam = { ...opts, dependsOn: [team] };
    new pulumi.TeamStackPermission(
      `${name}-${stage}-release-stack`,
      {
        organization: args.organization,
        team: releaseTeam(stage),
        project: PROJECTS.app,
        stack: stage,
        permission: pulumi.TeamStackPermissionScope.Edit,
      },
      afterTeam,
    );
    new pulumi.TeamEnvironmentPermission(
      `${name}-${stage}-release-record`,
      {
        organization: args.organization,
        team: releaseTeam(stage),
        project: args.escProject,
        environment: releaseEnvironmentName(stage),
        permission: pulumi.EnvironmentPermission.Write,
      },
      afterTeam,
    );
    teams[stage] = team;
  }
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
    { ...opts, dependsOn: Object.values(teams) },
  );
  return { issuer, teams };
}
