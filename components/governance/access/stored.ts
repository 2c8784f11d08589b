/**
 * The rights of the tokens people store by hand, as the docs tell them to make each: the model
 * checks these against what the runs do, and docs/operations.md is generated from the model.
 */
import { SINGLE_STACK_PROJECT } from "../../environment/projects";
import { stackGrant, type Grant } from "./model";

/**
 * The governance project's GitHub token: a fine-grained token on the application repository (and
 * the organization's Members read, to look teams up by slug). Metadata read comes with every token.
 */
export const GITHUB_TOKEN_RIGHTS: readonly GithubRight[] = [
  { scope: "administration:write" },
  { scope: "contents:write" },
  { scope: "workflows:write" },
  { scope: "pull_requests:write" },
  { scope: "environments:write" },
  { scope: "variables:write" },
  // Only for doc-rag:githubEnvironmentSecrets: the release jobs need no stored secret.
  { scope: "secrets:write", onlyWith: "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret" },
  { scope: "org_members:read" },
];

/** A right of the GitHub token; `onlyWith`: needed only where the program declares that resource type. */
export interface GithubRight {
  scope: string;
  onlyWith?: string;
}

/**
 * The review environment's token: an organization member's (or a team's) token that may create
 * stacks in the single-stack project, holds admin on the review stacks (Pulumi Cloud gives a stack's
 * creator admin on it; or a team with admin on `pr-*` through a custom role), and reads the `pr`
 * template's deployment settings. Team grants cannot name stacks that do not exist yet.
 */
export const REVIEW_TOKEN_RIGHTS: readonly Grant[] = [
  {
    entity: "organization",
    target: SINGLE_STACK_PROJECT,
    set: "create stacks",
    scopes: ["stack:create"],
    source: "the organization's stack-creation setting (docs/review-stacks.md)",
  },
  stackGrant(`${SINGLE_STACK_PROJECT}/pr-*`, "admin", "admin on the stacks it creates (docs/review-stacks.md)"),
  stackGrant(`${SINGLE_STACK_PROJECT}/pr`, "read", "read on the template (docs/review-stacks.md)"),
];
