/**
 * The release path's access model: for every actor (each release stage's team token, each project
 * stack's deployments, the review-stack and policy-preview jobs, the governance project's GitHub
 * token, every generated or committed job's GITHUB_TOKEN) the operations its runs perform, derived
 * from the declared resources, the stack files and the workflows, beside the grants it holds,
 * derived from the declared team permissions, OIDC policies and deployment settings, or from the
 * documented rights of a token a person stores. `accessFindings` names every operation no grant
 * covers, every grant no operation uses, and every grant wider than its uses need.
 */
import { parse } from "yaml";
import { unwrapSecrets, type RecordedResource } from "../../../lib/resources";
import { PREVIEW_TEAM } from "../identities";
import {
  ENVIRONMENT_SETS,
  EPHEMERAL_STACK_SET,
  ESC_IMPORT_SCOPE,
  GITHUB_INVOKE_PERMISSIONS,
  GITHUB_RESOURCE_PERMISSIONS,
  GITHUB_WORKFLOW_FILE_PERMISSION,
  JOB_STEP_PERMISSIONS,
  OPERATION_SCOPE,
  REST_SCOPES,
  STACK_REFERENCE_SCOPE,
  STACK_SETS,
  TEAM_STACK_PERMISSION,
  type DeploymentTrigger,
  type EnvironmentSet,
  type JobStep,
  type PulumiOperation,
  type StackSet,
} from "./rules";

export type Entity = "stack" | "environment" | "organization" | "github" | "job";

/** One thing a run does that needs a right: `scope` on `target` (a stack or environment as project/name). */
export interface Operation {
  entity: Entity;
  target: string;
  scope: string;
  why: string;
}

/** A right an actor holds: the scopes of a permission set on a target (`*` ends a pattern). */
export interface Grant {
  entity: Entity;
  target: string;
  set: string;
  scopes: readonly string[];
  source: string;
}

export interface Actor {
  id: string;
  /** What runs as this actor. */
  who: string;
  /** Where its token comes from. */
  token: string;
  operations: Operation[];
  grants: Grant[];
}

export interface Finding {
  actor: string;
  kind: "missing" | "unused" | "wider" | "order" | "unmodelled" | "install";
  detail: string;
}

type Resource = Pick<RecordedResource, "urn" | "type" | "name" | "inputs" | "dependencies">;

export interface AccessInputs {
  organization: string;
  /** The deployments program's recorded resources. */
  deployments: readonly Resource[];
  /** Each deployed stack's imported ESC environments (its file's `environment:`), as project/name. */
  stackImports: Readonly<Record<string, readonly string[]>>;
  /** The stacks each project stack's program takes a reference to: project/stack → [project/stack]. */
  stackReads: Readonly<Record<string, readonly string[]>>;
  /** The variables the governance stacks give each GitHub environment: environment → name → value. */
  environmentVariables: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** The workflows the program generates for the application repository, by path. */
  applicationWorkflows: Readonly<Record<string, string>>;
  /** This repository's own workflows, by path. */
  platformWorkflows: Readonly<Record<string, string>>;
  /** The governance stacks' recorded resources (GitHub). */
  governance: readonly Resource[];
  /** The review stack's recorded resources (a run of the `pr` template). */
  review: readonly Resource[];
  /** The documented rights of the tokens people store: the governance GitHub token, the review job's. */
  githubTokenRights: readonly { scope: string; onlyWith?: string }[];
  reviewTokenRights: readonly Grant[];
}

const stackKey = (project: string, stack: string) => `${project}/${stack}`;
const inputsOf = (r: Resource) => unwrapSecrets(r.inputs) as Record<string, unknown>;
const ofType = (resources: readonly Resource[], type: string) => resources.filter((r) => r.type === type);
const PULUMISERVICE = (name: string) => `pulumiservice:index:${name}`;

export function stackGrant(target: string, set: StackSet, source: string): Grant {
  return { entity: "stack", target, set: `Stack ${set}`, scopes: STACK_SETS[set], source };
}
export function environmentGrant(target: string, set: EnvironmentSet, source: string): Grant {
  return { entity: "environment", target, set: `Environment ${set}`, scopes: ENVIRONMENT_SETS[set], source };
}

/** How each kind of team permission the deployments program declares reads as a grant. */
const TEAM_PERMISSIONS: readonly { type: string; grant: (g: Record<string, unknown>, source: string) => Grant }[] = [
  {
    type: PULUMISERVICE("TeamStackPermission"),
    grant: (g, source) =>
      stackGrant(
        stackKey(String(g["project"]), String(g["stack"])),
        TEAM_STACK_PERMISSION[Number(g["permission"])] ?? "read",
        source,
      ),
  },
  {
    type: PULUMISERVICE("TeamEnvironmentPermission"),
    grant: (g, source) =>
      environmentGrant(
        stackKey(String(g["project"]), String(g["environment"])),
        g["permission"] as EnvironmentSet,
        source,
      ),
  },
];

/** A team's grants, from its declared TeamStackPermission and TeamEnvironmentPermission resources. */
function teamGrants(deployments: readonly Resource[], team: string): Grant[] {
  return TEAM_PERMISSIONS.flatMap(({ type, grant }) =>
    ofType(deployments, type)
      .map(inputsOf)
      .filter((g) => g["team"] === team)
      .map((g) => grant(g, `${type.split(":").pop() ?? type} of ${team}`)),
  );
}

/** What one Pulumi operation of a stack does: the stack itself, its references, its imported environments. */
export function stackOperations(
  inputs: Pick<AccessInputs, "stackImports" | "stackReads">,
  project: string,
  stack: string,
  operation: PulumiOperation,
  why: string,
): Operation[] {
  const target = stackKey(project, stack);
  return [
    { entity: "stack", target, scope: OPERATION_SCOPE[operation], why: `${why}: ${operation}` },
    ...(inputs.stackReads[target] ?? []).map((read) => ({
      entity: "stack" as const,
      target: read,
      scope: STACK_REFERENCE_SCOPE,
      why: `${why}: ${operation} reads its stack reference`,
    })),
    ...(inputs.stackImports[stack] ?? []).map((environment) => ({
      entity: "environment" as const,
      target: environment,
      scope: ESC_IMPORT_SCOPE,
      why: `${why}: ${operation} opens what Pulumi.${stack}.yaml imports`,
    })),
  ];
}

/** The team a deployment settings' PULUMI_ACCESS_TOKEN belongs to: the TeamAccessToken it was made from. */
function settingsToken(deployments: readonly Resource[], settings: Resource): { team?: string } | undefined {
  const variables = (inputsOf(settings)["operationContext"] as Record<string, unknown> | undefined)?.[
    "environmentVariables"
  ] as Record<string, unknown> | undefined;
  if (!variables || !("PULUMI_ACCESS_TOKEN" in variables)) return undefined;
  const token = ofType(deployments, PULUMISERVICE("TeamAccessToken")).find((t) =>
    settings.dependencies.includes(t.urn),
  );
  return { team: token ? String(inputsOf(token)["teamName"]) : undefined };
}

interface Workflow {
  permissions?: Record<string, string>;
  jobs?: Record<
    string,
    {
      name?: string;
      environment?: string;
      permissions?: Record<string, string>;
      steps?: JobStep[];
      strategy?: { matrix?: { include?: Record<string, string>[] } };
    }
  >;
}

/** A script's Pulumi Cloud calls, each resolved against the step's environment. */
interface ScriptCall {
  kind: "rest" | "env" | "start" | "stack-create" | "config" | "up" | "destroy" | "unmodelled";
  method?: string;
  route?: string;
  target: string;
  verb?: string;
  line: string;
}

/** Expands $NAME and ${NAME} from the step's environment; unknown names stay as `*`. */
function expand(text: string, env: Readonly<Record<string, string>>): string {
  return text.replace(/\$\{?([A-Z_][A-Z0-9_]*)\}?/g, (_, name: string) => env[name] ?? "*");
}

/**
 * The calls of a job script, by the vocabulary the generated and committed scripts use; any other
 * `pulumi` or Pulumi Cloud `curl` is reported as unmodelled, so a new call cannot slip past the model.
 */
export function scriptCalls(script: string, env: Readonly<Record<string, string>>): ScriptCall[] {
  const vars: Record<string, string> = { ...env };
  const calls: ScriptCall[] = [];
  for (const raw of script.split("\n")) {
    const line = raw.trim();
    // Assignments the scripts use to name their targets.
    const [, name, value] = /^(?:local\s+)?([a-z_]+)="([^"]*)"$/.exec(line) ?? [];
    if (name && value !== undefined && /stack|esc|api/.test(name)) {
      vars[name] = expand(value, vars);
      continue;
    }
    for (const m of line.matchAll(/\bapi (GET|POST) "\$stack_path([^"]*)"/g))
      calls.push({ kind: "rest", method: m[1], route: m[2], target: vars["stack_path"] ?? "*", line });
    for (const m of line.matchAll(/\b(?:pulumi env|penv) (get|set) "\$esc"/g))
      calls.push({ kind: "env", verb: m[1], target: vars["esc"] ?? "*", line });
    for (const m of line.matchAll(/\$\(start (update|refresh)\)/g))
      calls.push({ kind: "start", verb: m[1], target: vars["stack_path"] ?? "*", line });
    for (const m of line.matchAll(/curl [^|]*"\$api\/([^"]+)\/deployments\/settings"/g))
      calls.push({
        kind: "rest",
        method: /-X POST/.test(line) ? "POST" : "GET",
        route: "/deployments/settings",
        target: `${vars["api"] ?? "*"}/${expand(m[1] ?? "", vars)}`,
        line,
      });
    if (/\bpulumi stack init\b/.test(line)) calls.push({ kind: "stack-create", target: vars["stack"] ?? "*", line });
    if (/\bpulumi config (set|cp)\b/.test(line)) calls.push({ kind: "config", target: vars["stack"] ?? "*", line });
    if (/\bpulumi up\b/.test(line)) calls.push({ kind: "up", target: vars["stack"] ?? "*", line });
    if (/\bpulumi destroy\b/.test(line)) calls.push({ kind: "destroy", target: vars["stack"] ?? "*", line });
    const known =
      /\bapi (GET|POST) "\$stack_path|(pulumi env|penv) (get|set) "\$esc"|pulumi env "\$@"|pulumi (stack (init|select)|config (set|cp)|up|destroy)\b|"\$api\/[^"]+\/deployments\/settings"|oauth\/token|ACTIONS_ID_TOKEN_REQUEST_URL|https:\/\/api\.pulumi\.com\/api\$path/;
    if ((/\bpulumi\s/.test(line) || /api\.pulumi\.com/.test(line)) && !known.test(line) && !line.startsWith("#"))
      calls.push({ kind: "unmodelled", target: "*", line });
  }
  return calls;
}

/** A Pulumi Cloud path `/stacks/<org>/<project>/<stack>` (or an api base and stack) as project/stack. */
function stackOfPath(path: string): string {
  const parts = path.replace(/^.*\/stacks\//, "").split("/");
  return parts.length >= 3 ? `${parts[1]}/${parts[2]}` : path;
}
const environmentOfPath = (path: string) => path.split("/").slice(1).join("/");

/** The model: every actor with what it does and what it holds. */
export function accessModel(inputs: AccessInputs): Actor[] {
  const actors: Actor[] = [];
  const settings = ofType(inputs.deployments, PULUMISERVICE("DeploymentSettings"));
  /** Deployments started by REST, per stack: by whom, which operations. */
  const restStarts: { target: string; operation: PulumiOperation; by: string }[] = [];

  // The release jobs of the application repository: the team its OIDC policy gives each environment.
  const issuer = ofType(inputs.deployments, PULUMISERVICE("OidcIssuer")).map(inputsOf)[0];
  const policies = (issuer?.["policies"] ?? []) as { teamName?: string; rules?: Record<string, string> }[];
  const release = parse(inputs.applicationWorkflows[".github/workflows/release.yml"] ?? "{}") as Workflow;
  for (const [id, job] of Object.entries(release.jobs ?? {})) {
    if (!job.environment) continue;
    const env = job.environment;
    const team = policies.find((p) => p.rules?.["sub"]?.endsWith(`:environment:${env}`))?.teamName;
    const actorId = `release-${env}`;
    const operations: Operation[] = [];
    for (const step of job.steps ?? []) {
      if (!step.run) continue;
      const stepEnv = resolveWorkflowEnv(step.env ?? {}, inputs.environmentVariables[env] ?? {}, inputs.organization);
      for (const call of scriptCalls(step.run, stepEnv))
        operations.push(...callOperations(call, `release.yml ${id}`, (op) => restStarts.push({ ...op, by: actorId })));
    }
    actors.push({
      id: actorId,
      who: `release.yml's ${id} job (application repository, environment ${env})`,
      token: team ? `team ${team}, exchanged for the job's GitHub OIDC token` : "no OIDC policy names this environment",
      operations,
      grants: team ? teamGrants(inputs.deployments, team) : [],
    });
  }

  // Each project stack's deployments: whatever starts one, it runs as the settings' token, else as the trigger's.
  for (const s of settings) {
    const values = inputsOf(s);
    const target = stackKey(String(values["project"]), String(values["stack"]));
    const triggers: { trigger: DeploymentTrigger; operation: PulumiOperation; by?: string }[] = [];
    const vcs = (values["vcs"] ?? {}) as Record<string, unknown>;
    if (vcs["deployCommits"]) triggers.push({ trigger: "push", operation: "update" });
    for (const w of ofType(inputs.deployments, PULUMISERVICE("Webhook")).map(inputsOf))
      if (w["payloadUrl"] === target) triggers.push({ trigger: "webhook", operation: "update" });
    for (const d of ofType(inputs.deployments, PULUMISERVICE("DriftSchedule")).map(inputsOf))
      if (stackKey(String(d["project"]), String(d["stack"])) === target)
        triggers.push({ trigger: "drift", operation: d["autoRemediate"] ? "update" : "detect-drift" });
    for (const start of restStarts.filter((r) => r.target === target))
      triggers.push({ trigger: "rest", operation: start.operation, by: start.by });
    if (!triggers.length) continue;
    const token = settingsToken(inputs.deployments, s);
    const [project, stack] = target.split("/") as [string, string];
    const runs = triggers.map((t) => ({
      ...t,
      operations: stackOperations(inputs, project, stack, t.operation, `a ${t.trigger} deployment`),
    }));
    if (token) {
      actors.push({
        id: `deployments ${target}`,
        who: `every deployment of ${target} (${[...new Set(triggers.map((t) => t.trigger))].join(", ")})`,
        token: token.team
          ? `its settings' PULUMI_ACCESS_TOKEN: team ${token.team}'s token`
          : "its settings' PULUMI_ACCESS_TOKEN (not a token this program made)",
        operations: runs.flatMap((r) => r.operations),
        grants: token.team ? teamGrants(inputs.deployments, token.team) : [],
      });
      continue;
    }
    // Without a token in the settings: REST runs act as their caller, the others as the stack's ephemeral token.
    for (const run of runs) {
      const caller = run.by ? actors.find((a) => a.id === run.by) : undefined;
      if (caller) caller.operations.push(...run.operations);
      else
        actors.push({
          id: `${run.trigger} deployments ${target}`,
          who: `${run.trigger} deployments of ${target}`,
          token: "the deployment's ephemeral stack token (admin on this stack only)",
          operations: run.operations,
          grants: [stackGrant(target, EPHEMERAL_STACK_SET, "Pulumi Deployments' ephemeral token")],
        });
    }
  }

  actors.push(...platformJobActors(inputs), githubTokenActor(inputs), ...jobPermissionActors(inputs));
  return actors;
}

/** `${{ vars.X }}` in a step's env, as the governance stacks set X (the organization, as the run knows it). */
function resolveWorkflowEnv(
  env: Readonly<Record<string, string>>,
  variables: Readonly<Record<string, string>>,
  organization: string,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([name, value]) => {
      const variable = /^\$\{\{\s*vars\.([A-Z_]+)\s*\}\}$/.exec(value)?.[1];
      if (variable === "PULUMI_ORGANIZATION") return [name, organization];
      return [name, variable ? (variables[variable] ?? "*") : value];
    }),
  );
}

/** The operations a script call performs; a started deployment is reported to `started`. */
function callOperations(
  call: ScriptCall,
  why: string,
  started: (op: { target: string; operation: PulumiOperation }) => void,
): Operation[] {
  switch (call.kind) {
    case "unmodelled":
      return [{ entity: "stack", target: "*", scope: "unmodelled", why: `${why}: ${call.line}` }];
    case "rest": {
      const rule = REST_SCOPES.find((r) => r.method === call.method && r.route.test(call.route ?? ""));
      if (!rule) return [{ entity: "stack", target: "*", scope: "unmodelled", why: `${why}: ${call.line}` }];
      return [{ entity: "stack", target: stackOfPath(call.target), scope: rule.scope, why: `${why}: ${rule.what}` }];
    }
    case "env":
      return [
        {
          entity: "environment",
          target: environmentOfPath(call.target),
          scope: call.verb === "set" ? "environment:write" : "environment:open",
          why: `${why}: pulumi env ${call.verb ?? ""}`,
        },
      ];
    case "start":
      started({ target: stackOfPath(call.target), operation: call.verb as PulumiOperation });
      return [];
    default:
      return [];
  }
}

/** The review-stack and policy-preview jobs of this repository. */
function platformJobActors(inputs: AccessInputs): Actor[] {
  const actors: Actor[] = [];
  const preview = parse(inputs.platformWorkflows[".github/workflows/policy-preview.yml"] ?? "{}") as Workflow;
  const previewJob = preview.jobs?.["preview"];
  // The preview environment holds the token the deployments program makes for the preview team.
  const previewTeam = ofType(inputs.deployments, PULUMISERVICE("TeamAccessToken")).find(
    (t) => inputsOf(t)["teamName"] === PREVIEW_TEAM,
  );
  const previewOps = (previewJob?.strategy?.matrix?.include ?? []).flatMap((entry) =>
    stackOperations(
      inputs,
      String(entry["project"]),
      String(entry["stack"]),
      "preview",
      `policy-preview.yml (${String(entry["project"])}/${String(entry["stack"])})`,
    ),
  );
  const previewTeamName = previewTeam ? String(inputsOf(previewTeam)["teamName"]) : undefined;
  actors.push({
    id: "policy-preview",
    who: "policy-preview.yml's preview job (this repository, environment preview)",
    token: previewTeamName
      ? `the preview environment's PULUMI_ACCESS_TOKEN: team ${previewTeamName}'s token (the deployments stack's previewToken output)`
      : "a stored token with no declared team",
    operations: previewOps,
    grants: previewTeamName ? teamGrants(inputs.deployments, previewTeamName) : [],
  });

  const review = parse(inputs.platformWorkflows[".github/workflows/review-stack.yml"] ?? "{}") as Workflow;
  const reviewOps: Operation[] = [];
  for (const [id, job] of Object.entries(review.jobs ?? {})) {
    const env = { PULUMI_ORGANIZATION: inputs.organization, PR_NUMBER: "*" };
    for (const step of job.steps ?? []) {
      if (!step.run) continue;
      for (const call of scriptCalls(step.run, env)) {
        const why = `review-stack.yml ${id}`;
        const [project = "*", stackName = "*"] = call.target.split("/").slice(-2);
        const stack = `${project}/${stackName}`;
        switch (call.kind) {
          case "stack-create":
            reviewOps.push({ entity: "organization", target: project, scope: "stack:create", why });
            break;
          case "config":
            reviewOps.push({ entity: "stack", target: stack, scope: "stack:encrypt", why: `${why}: sets its config` });
            break;
          case "up":
            // A copy of the pr template's config: what Pulumi.pr.yaml imports, under the review stack's name.
            reviewOps.push(
              ...stackOperations(
                { stackImports: { [stackName]: inputs.stackImports["pr"] ?? [] }, stackReads: {} },
                project,
                stackName,
                "update",
                why,
              ),
            );
            // What the program itself creates in Pulumi Cloud, with the job's token: its TTL schedule.
            if (ofType(inputs.review, PULUMISERVICE("TtlSchedule")).length)
              reviewOps.push({
                entity: "stack",
                target: stack,
                scope: "stack_schedule:create",
                why: `${why}: its TTL`,
              });
            break;
          case "destroy":
            reviewOps.push({ entity: "stack", target: stack, scope: "stack:write", why: `${why}: destroy` });
            reviewOps.push({ entity: "stack", target: stack, scope: "stack:delete", why: `${why}: --remove` });
            break;
          default:
            reviewOps.push(...callOperations(call, why, () => undefined));
        }
      }
    }
  }
  // The TTL schedule's destroy: a scheduled deployment of the review stack, with the stack's ephemeral token.
  for (const schedule of ofType(inputs.review, PULUMISERVICE("TtlSchedule"))) {
    const target = `${String(inputsOf(schedule)["project"])}/pr-*`;
    actors.push({
      id: `ttl deployments ${target}`,
      who: `the TTL schedule's destroy of each review stack ${target}`,
      token: "the deployment's ephemeral stack token (admin on this stack only)",
      operations: [
        { entity: "stack", target, scope: OPERATION_SCOPE.destroy, why: "the TTL destroy" },
        ...(inputsOf(schedule)["deleteAfterDestroy"]
          ? [{ entity: "stack" as const, target, scope: "stack:delete", why: "deleteAfterDestroy" }]
          : []),
      ],
      grants: [stackGrant(target, EPHEMERAL_STACK_SET, "Pulumi Deployments' ephemeral token")],
    });
  }
  actors.push({
    id: "review-stack",
    who: "review-stack.yml's up and destroy jobs (this repository, environment review)",
    token: "the review environment's PULUMI_ACCESS_TOKEN, stored by hand (docs/review-stacks.md)",
    operations: reviewOps,
    grants: [...inputs.reviewTokenRights],
  });
  return actors;
}

/** The governance project's GitHub token: the API areas its resources call, beside its documented rights. */
function githubTokenActor(inputs: AccessInputs): Actor {
  const operations: Operation[] = [];
  const add = (scope: string, why: string) =>
    operations.push({ entity: "github", target: "application repository", scope, why });
  for (const r of inputs.governance) {
    const kind = r.type.split(":").pop() ?? r.type;
    for (const scope of GITHUB_RESOURCE_PERMISSIONS[r.type] ?? []) add(scope, `${kind} ${r.name}`);
    if (
      r.type === "github:index/repositoryFile:RepositoryFile" &&
      /^\.github\/workflows\//.test(String(r.inputs["file"]))
    )
      add(GITHUB_WORKFLOW_FILE_PERMISSION, `RepositoryFile ${String(r.inputs["file"])}`);
    // Teams named by slug (reviewers, release managers) are looked up to their ids.
    const values = JSON.stringify(inputsOf(r));
    if (/"teams":\[|"actorType":"Team"/.test(values))
      for (const scope of GITHUB_INVOKE_PERMISSIONS["github:index/getTeam:getTeam"] ?? [])
        add(scope, `getTeam for ${kind} ${r.name}`);
  }
  return {
    id: "governance github token",
    who: "the governance project's GitHub provider (pulumi up of doc-rag-governance)",
    token: "GITHUB_TOKEN (or doc-rag:githubToken): a fine-grained token on the application repository, stored by hand",
    operations,
    grants: inputs.githubTokenRights
      .filter((right) => !right.onlyWith || inputs.governance.some((r) => r.type === right.onlyWith))
      .map(({ scope }) => ({
        entity: "github" as const,
        target: "application repository",
        set: scope,
        scopes: [scope],
        source: "the documented token rights (docs/operations.md)",
      })),
  };
}

/** Every job's GITHUB_TOKEN: the permissions its steps use, beside those the workflow gives it. */
function jobPermissionActors(inputs: AccessInputs): Actor[] {
  const actors: Actor[] = [];
  const all = { ...inputs.applicationWorkflows, ...inputs.platformWorkflows };
  for (const [file, text] of Object.entries(all)) {
    const workflow = parse(text) as Workflow;
    for (const [id, job] of Object.entries(workflow.jobs ?? {})) {
      const permissions = job.permissions ?? workflow.permissions ?? {};
      const operations = (job.steps ?? []).flatMap((step) =>
        JOB_STEP_PERMISSIONS.filter((p) => p.test(step)).map((p) => ({
          entity: "job" as const,
          target: `${file}#${id}`,
          scope: p.permission,
          why: `${step.name ?? step.uses ?? "a step"} ${p.what}`,
        })),
      );
      actors.push({
        id: `GITHUB_TOKEN ${file.replace(/^\.github\/workflows\//, "")}#${id}`,
        who: `the ${id} job of ${file}`,
        token: "the job's GITHUB_TOKEN, with the job's (else the workflow's) permissions",
        operations,
        grants: Object.entries(permissions)
          .filter(([, level]) => level !== "none")
          .map(([name, level]) => ({
            entity: "job" as const,
            target: `${file}#${id}`,
            set: `${name}: ${level}`,
            // write includes read, as GitHub's permissions do.
            scopes: level === "write" ? [`${name}:write`, `${name}:read`] : [`${name}:read`],
            source: "the job's permissions",
          })),
      });
    }
  }
  return actors;
}

const matches = (pattern: string, target: string) =>
  pattern === target || (pattern.endsWith("*") && target.startsWith(pattern.slice(0, -1)));

/** Whether a grant covers an operation: same kind of entity, a matching target, the scope among its scopes. */
export const covers = (grant: Grant, op: Operation): boolean =>
  grant.entity === op.entity && matches(grant.target, op.target) && grant.scopes.includes(op.scope);

/** What is wrong with the model: ungranted operations, unused and over-wide grants, and unsafe scripts. */
export function accessFindings(actors: readonly Actor[], inputs: Pick<AccessInputs, "platformWorkflows">): Finding[] {
  const findings: Finding[] = [];
  for (const actor of actors) {
    for (const op of actor.operations) {
      if (op.scope === "unmodelled") {
        findings.push({ actor: actor.id, kind: "unmodelled", detail: `a call the model does not know: ${op.why}` });
        continue;
      }
      if (!actor.grants.some((g) => covers(g, op)))
        findings.push({ actor: actor.id, kind: "missing", detail: `${op.scope} on ${op.target} (${op.why})` });
    }
    for (const grant of actor.grants) {
      const uses = actor.operations.filter((op) => covers(grant, op));
      if (!uses.length) {
        findings.push({ actor: actor.id, kind: "unused", detail: `${grant.set} on ${grant.target} (${grant.source})` });
        continue;
      }
      const narrower = narrowerSet(grant, uses);
      if (narrower)
        findings.push({
          actor: actor.id,
          kind: "wider",
          detail: `${grant.set} on ${grant.target}: ${narrower} covers what it is used for (${grant.source})`,
        });
    }
  }
  for (const [file, text] of Object.entries(inputs.platformWorkflows)) findings.push(...unsafeInstalls(file, text));
  findings.push(...scheduleOrder(inputs.platformWorkflows));
  return findings;
}

/** The smallest standard set that covers a grant's uses, when it is smaller than the grant. */
function narrowerSet(grant: Grant, uses: readonly Operation[]): string | undefined {
  const sets: Record<string, readonly string[]> =
    grant.entity === "stack"
      ? Object.fromEntries(Object.entries(STACK_SETS).map(([k, v]) => [`Stack ${k}`, v]))
      : grant.entity === "environment"
        ? Object.fromEntries(Object.entries(ENVIRONMENT_SETS).map(([k, v]) => [`Environment ${k}`, v]))
        : {};
  const smallest = Object.entries(sets).find(([, scopes]) => uses.every((u) => scopes.includes(u.scope)));
  return smallest && smallest[1].length < grant.scopes.length ? smallest[0] : undefined;
}

/**
 * A job that holds a secret installs no code of a pull request with its lifecycle scripts, and no
 * step that installs holds a secret: an install script would run with it (npm runs a package's
 * lifecycle scripts unless --ignore-scripts).
 */
function unsafeInstalls(file: string, text: string): Finding[] {
  const workflow = parse(text) as Workflow;
  const findings: Finding[] = [];
  for (const [id, job] of Object.entries(workflow.jobs ?? {})) {
    for (const step of job.steps ?? []) {
      const installs = (step.run ?? "").split("\n").filter((l) => /\bnpm (ci|install)\b/.test(l));
      if (!installs.length) continue;
      const secrets = Object.values(step.env ?? {}).filter((v) => /secrets\./.test(String(v)));
      if (secrets.length)
        findings.push({
          actor: `${file}#${id}`,
          kind: "install",
          detail: `an install step holds ${secrets.join(", ")}`,
        });
      for (const line of installs)
        if (job.environment && !/--ignore-scripts/.test(line))
          findings.push({
            actor: `${file}#${id}`,
            kind: "install",
            detail: `"${line.trim()}" runs lifecycle scripts in a job of environment ${job.environment}`,
          });
    }
  }
  return findings;
}

/**
 * A review stack's program creates its TTL schedule, which Pulumi Cloud refuses on a stack without
 * deployment settings (a schedule runs deployments): the settings are written before `pulumi up`.
 */
function scheduleOrder(workflows: Readonly<Record<string, string>>): Finding[] {
  const text = workflows[".github/workflows/review-stack.yml"];
  if (!text) return [];
  const findings: Finding[] = [];
  for (const [id, job] of Object.entries((parse(text) as Workflow).jobs ?? {})) {
    const calls = (job.steps ?? []).flatMap((step) => scriptCalls(step.run ?? "", {}));
    const up = calls.findIndex((c) => c.kind === "up");
    if (up < 0) continue;
    const settings = calls.findIndex((c) => c.method === "POST" && c.route === "/deployments/settings");
    if (settings < 0 || settings > up)
      findings.push({
        actor: `review-stack.yml#${id}`,
        kind: "order",
        detail: "pulumi up creates the TTL schedule before the stack has deployment settings",
      });
  }
  return findings;
}
