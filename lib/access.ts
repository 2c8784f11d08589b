/**
 * The access model's inputs, gathered as the program really declares them: the deployments
 * program, every project stack of staging and production and the review template run under the
 * mocks, their stack files, the generated application workflows and this repository's own.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
  accessFindings,
  accessModel,
  type AccessInputs,
  type Actor,
  type Finding,
} from "../components/governance/access/model";
import { GITHUB_TOKEN_RIGHTS, REVIEW_TOKEN_RIGHTS } from "../components/governance/access/stored";
import { workflowFiles } from "../components/governance/workflows";
import { LAYERS, PROJECTS } from "../components/environment/projects";
import { unwrapSecrets } from "./resources";
import { CODE_ROOT } from "./paths";
import { PROJECT_ROOT, runStack } from "./run";
import { readStackConfig } from "./stackConfig";

const withoutOrganization = (name: string) => name.split("/").slice(1).join("/");

export async function accessInputs(): Promise<AccessInputs> {
  const deployments = await runStack("settings", {
    root: path.join(PROJECT_ROOT, "deployments"),
    code: path.join(CODE_ROOT, "deployments"),
  });
  if (deployments.error) throw deployments.error;
  // Every project stack the deployments program deploys (each has settings), run as its project.
  const deployed = deployments.resources
    .filter((r) => r.type === "pulumiservice:index:DeploymentSettings")
    .map((r) => ({ project: String(r.inputs["project"]), stack: String(r.inputs["stack"]) }))
    .flatMap(({ project, stack }) => {
      const layer = LAYERS.find((l) => PROJECTS[l] === project);
      return layer ? [{ layer, project, stack }] : [];
    });
  const stackImports: Record<string, string[]> = {};
  for (const stack of [...new Set(deployed.map((d) => d.stack)), "pr"])
    stackImports[stack] = readStackConfig(PROJECT_ROOT, stack).environments;
  const stackReads: Record<string, string[]> = {};
  const governance = [];
  const environmentVariables: Record<string, Record<string, string>> = {};
  for (const { layer, project, stack } of deployed) {
    const run = await runStack(stack, { project: layer });
    if (run.error) throw run.error;
    stackReads[`${project}/${stack}`] = run.resources
      .filter((r) => r.type === "pulumi:pulumi:StackReference")
      .map((r) => withoutOrganization(r.name));
    if (layer !== "governance") continue;
    governance.push(...run.resources);
    for (const r of run.resources.filter(
      (x) => x.type === "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable",
    )) {
      const { environment, variableName, value } = unwrapSecrets(r.inputs) as Record<string, string>;
      if (environment && variableName) (environmentVariables[environment] ??= {})[variableName] = String(value);
    }
  }
  const review = await runStack("pr");
  const workflowsDir = path.join(PROJECT_ROOT, ".github", "workflows");
  const platformWorkflows = Object.fromEntries(
    fs
      .readdirSync(workflowsDir)
      .filter((f) => f.endsWith(".yml"))
      .map((f) => [`.github/workflows/${f}`, fs.readFileSync(path.join(workflowsDir, f), "utf8")]),
  );
  const settings = deployments.resources.find((r) => r.type === "pulumiservice:index:DeploymentSettings");
  return {
    organization: String(settings?.inputs["organization"] ?? ""),
    deployments: deployments.resources,
    stackImports,
    stackReads,
    environmentVariables,
    applicationWorkflows: workflowFiles(),
    platformWorkflows,
    governance,
    review: review.resources,
    githubTokenRights: GITHUB_TOKEN_RIGHTS,
    reviewTokenRights: REVIEW_TOKEN_RIGHTS,
  };
}

/** The model of the program as it is, and what is wrong with it. */
export async function accessReport(): Promise<{ inputs: AccessInputs; actors: Actor[]; findings: Finding[] }> {
  const inputs = await accessInputs();
  const actors = accessModel(inputs);
  return { inputs, actors, findings: accessFindings(actors, inputs) };
}
