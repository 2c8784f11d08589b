/**
 * The documented rules the access model applies, each with its source. Nothing here runs against
 * Pulumi Cloud or GitHub (neither runs on this machine): these are the published semantics the
 * model's checks stand on, kept in one place so a reader can hold each against its page.
 */

/**
 * Pulumi Cloud's stack permission sets and their scopes.
 * Source: pulumi.com/docs/administration/access-identity/rbac/permission-sets ("Stack permission sets").
 */
const STACK_READ = [
  "stack:read",
  "stack:export",
  "stack:encrypt",
  "stack:decrypt",
  "stack_deployment:read",
  "stack_deployment_settings:read",
  "stack_access:read",
  "stack_schedule:read",
];
const STACK_WRITE = [
  ...STACK_READ,
  "stack:import",
  "stack:cancel_update",
  "stack:write",
  "stack_deployment_settings:write",
  "stack_deployment_settings:encrypt",
  "stack_deployment_cache:read",
  "stack_tags:update",
  "stack_schedule:update",
  "stack_schedule:create",
  "stack_schedule:pause",
  "stack_schedule:resume",
  "stack_schedule:delete",
  "stack_deployment:create",
  "stack_webhook:create",
  "stack_webhook:update",
  "stack_webhook:delete",
  "stack_webhook:read",
];
const STACK_ADMIN = [...STACK_WRITE, "stack:delete", "stack_access:update", "stack:transfer", "stack:rename"];

/** Same page, "Environment permission sets". */
const ENVIRONMENT_READ = [
  "environment:read",
  "environment:rotate_history",
  "environment_version:read",
  "environment_schedule:read",
  "environment_tag:read",
];
const ENVIRONMENT_OPEN = [...ENVIRONMENT_READ, "environment:open", "environment:clone", "environment_version:open"];
const ENVIRONMENT_WRITE = [
  ...ENVIRONMENT_OPEN,
  "environment:write",
  "environment:rotate",
  "environment_version:create",
  "environment_version:update",
  "environment_version:delete",
  "environment_version:retract",
  "environment_tag:create",
  "environment_tag:update",
  "environment_tag:delete",
];
const ENVIRONMENT_ADMIN = [...ENVIRONMENT_WRITE, "environment:delete"];

export type StackSet = "read" | "write" | "admin";
export type EnvironmentSet = "read" | "open" | "write" | "admin";

export const STACK_SETS: Readonly<Record<StackSet, readonly string[]>> = {
  read: STACK_READ,
  write: STACK_WRITE,
  admin: STACK_ADMIN,
};
export const ENVIRONMENT_SETS: Readonly<Record<EnvironmentSet, readonly string[]>> = {
  read: ENVIRONMENT_READ,
  open: ENVIRONMENT_OPEN,
  write: ENVIRONMENT_WRITE,
  admin: ENVIRONMENT_ADMIN,
};

/**
 * TeamStackPermission's `permission` (101 read, 102 edit, 103 admin) as a permission set.
 * Source: @pulumi/pulumiservice 1.3.0, TeamStackPermissionScope.
 */
export const TEAM_STACK_PERMISSION: Readonly<Record<number, StackSet>> = { 101: "read", 102: "write", 103: "admin" };

/**
 * What a Pulumi operation of a stack needs: write on the stack for an update, refresh, destroy or
 * drift check; read for a preview ("Stack Read … Allows for running previews"); read on every stack
 * it takes a reference to; open on every ESC environment its stack file imports.
 * Sources: pulumi.com/docs/deployments/operations/permissions ("Minimum Required Token Permissions");
 * the permission-sets page above for the preview.
 */
export const OPERATION_SCOPE = {
  update: "stack:write",
  refresh: "stack:write",
  destroy: "stack:write",
  "detect-drift": "stack:write",
  preview: "stack:read",
} as const;
export type PulumiOperation = keyof typeof OPERATION_SCOPE;
export const STACK_REFERENCE_SCOPE = "stack:read";
export const ESC_IMPORT_SCOPE = "environment:open";

/**
 * Which token a deployment runs with. Source: pulumi.com/docs/deployments/operations/permissions:
 * "If the deployment is created via the REST API … it is granted the permissions of the user that
 * has executed the action"; "If a deployment is created because of a git push or a pull request, it
 * uses an ephemeral stack token that has admin permissions on only the stack itself, but nothing
 * else" (schedules and webhooks start deployments the same way, with no user); and a
 * PULUMI_ACCESS_TOKEN in the stack's deployment settings "will be used regardless of how the
 * deployment was created".
 */
export type DeploymentTrigger = "push" | "webhook" | "drift" | "rest";
export const EPHEMERAL_STACK_SET: StackSet = "admin";

/**
 * What the pulumi and curl calls of a generated job script need (`api` is the scripts' wrapper of
 * Pulumi Cloud's REST API). Sources: pulumi.com/docs/reference/cloud-rest-api (deployments, stack
 * export, updates) for the routes; the permission-sets page for the scopes each route's action has.
 */
export const REST_SCOPES: readonly { method: string; route: RegExp; scope: string; what: string }[] = [
  { method: "POST", route: /^\/deployments$/, scope: "stack_deployment:create", what: "starts a deployment" },
  { method: "GET", route: /^\/export$/, scope: "stack:export", what: "exports the stack's state" },
  { method: "GET", route: /^\/updates\/latest$/, scope: "stack:read", what: "reads the latest update" },
  {
    method: "GET",
    route: /^\/deployments\/settings$/,
    scope: "stack_deployment_settings:read",
    what: "reads deployment settings",
  },
  {
    method: "POST",
    route: /^\/deployments\/settings$/,
    scope: "stack_deployment_settings:write",
    what: "writes deployment settings",
  },
  // After the settings routes: the first route that matches decides.
  { method: "GET", route: /^\/deployments(\?.*|\/.*)?$/, scope: "stack_deployment:read", what: "reads deployments" },
];

/**
 * The GitHub permissions of a fine-grained token each resource type of the governance project
 * needs, as GitHub's REST reference lists them for the endpoints the provider calls
 * ("Fine-grained access tokens for …" on each endpoint of docs.github.com/rest).
 */
export const GITHUB_RESOURCE_PERMISSIONS: Readonly<Record<string, readonly string[]>> = {
  // repos: update a repository (settings, security_and_analysis), vulnerability alerts.
  "github:index/repository:Repository": ["administration:write"],
  // repos: enable automated security fixes.
  "github:index/repositoryDependabotSecurityUpdates:RepositoryDependabotSecurityUpdates": ["administration:write"],
  // repos: create or update an environment; deployment branch policies.
  "github:index/repositoryEnvironment:RepositoryEnvironment": ["administration:write"],
  "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy": ["administration:write"],
  // actions: create or update an environment secret ("Secrets" and "Environments" write).
  "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret": ["secrets:write", "environments:write"],
  // actions: create an environment variable ("Variables" and "Environments" write).
  "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable": ["variables:write", "environments:write"],
  // repos: rulesets.
  "github:index/repositoryRuleset:RepositoryRuleset": ["administration:write"],
  // git: create a reference.
  "github:index/branch:Branch": ["contents:write"],
  // repos: create or update file contents; a file under .github/workflows/ also needs "Workflows" write.
  "github:index/repositoryFile:RepositoryFile": ["contents:write"],
  // pulls: create and update a pull request.
  "github:index/repositoryPullRequest:RepositoryPullRequest": ["pull_requests:write"],
};
/** Contents API on a workflow file: docs.github.com/rest/repos/contents ("workflow" scope / "Workflows" write). */
export const GITHUB_WORKFLOW_FILE_PERMISSION = "workflows:write";
/** teams: get a team by name, an organization permission: "Members" (read). */
export const GITHUB_INVOKE_PERMISSIONS: Readonly<Record<string, readonly string[]>> = {
  "github:index/getTeam:getTeam": ["org_members:read"],
};

/**
 * What a GitHub Actions job's GITHUB_TOKEN needs for the steps the generated workflows use.
 * Source: docs.github.com/actions/security-for-github-actions (permissions for the GITHUB_TOKEN):
 * checkout reads contents; pushing a package to ghcr.io needs packages write; requesting the job's
 * OIDC token needs id-token write; commenting on a pull request needs pull-requests write.
 */
export const JOB_STEP_PERMISSIONS: readonly { test: (step: JobStep) => boolean; permission: string; what: string }[] = [
  { test: (s) => /^actions\/checkout@/.test(s.uses ?? ""), permission: "contents:read", what: "checks out" },
  { test: (s) => /docker push /.test(s.run ?? ""), permission: "packages:write", what: "pushes images" },
  {
    test: (s) => /ACTIONS_ID_TOKEN_REQUEST_TOKEN/.test(s.run ?? ""),
    permission: "id-token:write",
    what: "requests the job's OIDC token",
  },
  {
    test: (s) => s.with?.["comment-on-pr"] === true,
    permission: "pull-requests:write",
    what: "comments on the pull request",
  },
];

export interface JobStep {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  name?: string;
}
