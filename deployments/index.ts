// The deployments program: Pulumi Deployments for the platform's stacks, from a stack of its
// own (Pulumi warns against a stack managing its own deployment settings).
import * as fs from "node:fs";
import * as path from "node:path";
import { loadDeploymentsConfig } from "../components/config/deployments";
import { projectRootFrom } from "../components/projectRoot";
import { DEPLOYED_STACKS, PulumiDeployments } from "../components/governance/deployments";

// The repository's policies/, also when this program runs from a build in dist/ (the access model's docs).
const policies = path.join(projectRootFrom(path.resolve(__dirname, "..")), "policies");
const readJson = (file: string) => JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
const pack = readJson(path.join(policies, "package.json"));

const deployments = new PulumiDeployments("deployments", {
  config: loadDeploymentsConfig(),
  policyPack: {
    name: "doc-rag-security",
    version: String(pack["version"]),
    sourcePath: "../policies",
    configs: Object.fromEntries(
      Object.keys(DEPLOYED_STACKS).map((stack) => [stack, readJson(path.join(policies, "config", `${stack}.json`))]),
    ) as Record<keyof typeof DEPLOYED_STACKS, Record<string, unknown>>,
  },
});

/** The preview team's token: store it as the platform repository's `preview` environment secret PULUMI_ACCESS_TOKEN. */
export const previewToken = deployments.previewToken;
