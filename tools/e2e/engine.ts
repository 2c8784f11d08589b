/**
 * The real engine the e2e lane runs: the Pulumi CLI, a Node language host, the Kubernetes provider,
 * the Kubernetes control plane and kwok, built from Go modules by the recipe in ../shared/real-engine
 * (or $DOC_RAG_REAL_ENGINE) into a cache folder keyed by the versions and the recipe's contents.
 * Nothing is downloaded at run time and nothing built goes into git.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "../../lib/paths";
import { cacheDir } from "../../lib/helm";
import { run } from "./process";

/** The versions the recipe builds; each part of the cache key. */
export const ENGINE_VERSIONS = {
  pulumi: "3.248.0",
  kubernetesProvider: "4.25.0-dev.f47bc2d6f199",
  kubernetes: "v1.36.3",
  kwok: "v0.8.0",
} as const;

/** The binaries the lane needs in the engine folder. */
const BINARIES = [
  "pulumi",
  "pulumi-language-nodejs",
  "pulumi-resource-kubernetes",
  "pulumi-resource-random",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kwok",
];
/** kwok's own stage definitions (node initialisation, pods ready, completed, deleted), from its module. */
export const KWOK_STAGES = "kwok-stages.yaml";
const KWOK_STAGE_FILES = [
  "node/fast/node-initialize.yaml",
  "pod/fast/pod-ready.yaml",
  "pod/fast/pod-complete.yaml",
  "pod/fast/pod-delete.yaml",
];

/** What stands in for an upstream binary or service here, so no one mistakes the lane's run for theirs. */
export const ENGINE_SUBSTITUTES = [
  "pulumi-language-nodejs: the recipe's minimal Node host (langhost/main.go on sdk/v3), not the upstream host, which the Go module proxy does not serve",
  "pulumi-resource-random: the recipe's stand-in serving RandomPassword only (4.21.2-standin); the real provider is not served",
  `pulumi-resource-kubernetes: ${ENGINE_VERSIONS.kubernetesProvider} (≈4.25, the one version served) in place of the pinned @pulumi/kubernetes 4.34.2`,
  "nodes: 8 kwok CPU nodes and 3 GPU nodes (accelerator=nvidia-tesla-v100, tainted nvidia.com/gpu); containers never run, pods become Ready by kwok's stages",
  "etcd: Debian's etcd-server 3.4",
  "pulumi-resource-vault, -github, -pulumiservice: the lane's no-credentials stand-in (tools/e2e/no-credentials-provider), which records those resources without contacting anything and answers no data source",
];

export interface Engine {
  /** The folder holding every binary. */
  bin: string;
  /** The folder of the no-credentials provider stand-ins (pulumi-resource-<package>). */
  standIns: string;
  /** The recipe's scripts (start-cluster.sh, stop-cluster.sh). */
  recipe: string;
  /** The Go builds' work folder (wrapper modules). */
  work: string;
}

/** The recipe folder: $DOC_RAG_REAL_ENGINE, else ../shared/real-engine beside the project. */
export function recipeDir(): string {
  return path.resolve(process.env["DOC_RAG_REAL_ENGINE"] ?? path.join(PROJECT_ROOT, "..", "shared", "real-engine"));
}

/** The cache key: the versions, and a hash of every file of the recipe, so a changed recipe rebuilds. */
export function engineKey(recipe: string): string {
  const hash = createHash("sha256");
  const files = fs
    .readdirSync(recipe, { recursive: true, encoding: "utf8" })
    .filter((f) => fs.statSync(path.join(recipe, f)).isFile())
    .sort();
  for (const f of files)
    hash
      .update(f)
      .update("\0")
      .update(fs.readFileSync(path.join(recipe, f)))
      .update("\0");
  const v = ENGINE_VERSIONS;
  return `pulumi-${v.pulumi}_k8s-${v.kubernetesProvider}_kube-${v.kubernetes}_kwok-${v.kwok}_${hash.digest("hex").slice(0, 12)}`;
}

const complete = (bin: string) =>
  BINARIES.every((b) => fs.existsSync(path.join(bin, b))) && fs.existsSync(path.join(bin, KWOK_STAGES));

/** kwok's stage files, read from its module in the Go module cache (the same module the build used). */
function writeKwokStages(bin: string): void {
  const result = spawnSync("go", ["mod", "download", "-json", `sigs.k8s.io/kwok@${ENGINE_VERSIONS.kwok}`], {
    encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(`go mod download sigs.k8s.io/kwok: ${result.stderr}`);
  const dir = (JSON.parse(result.stdout) as { Dir: string }).Dir;
  const stages = KWOK_STAGE_FILES.map((f) => fs.readFileSync(path.join(dir, "kustomize", "stage", f), "utf8"));
  fs.writeFileSync(path.join(bin, KWOK_STAGES), stages.map((s) => s.trim()).join("\n---\n") + "\n");
}

/**
 * The engine, built first if its cache folder is incomplete (cold: about 20 minutes on 2 cores;
 * the build log goes to `log`). A half-built folder is resumed: the recipe skips what exists.
 */
export async function ensureEngine(log: string, say: (line: string) => void): Promise<Engine> {
  const recipe = recipeDir();
  if (!fs.existsSync(path.join(recipe, "build-all.sh"))) {
    throw new Error(`no real-engine recipe at ${recipe} (set DOC_RAG_REAL_ENGINE to its folder)`);
  }
  const root = path.join(cacheDir(), "real-engine");
  const bin = path.join(root, engineKey(recipe));
  const work = path.join(root, "work");
  const standIns = await ensureNoCredentialProviders(root, log);
  if (complete(bin)) return { bin, standIns, recipe, work };
  const partial = `${bin}.partial`;
  fs.mkdirSync(partial, { recursive: true });
  say(`building the real engine into ${bin} (cold: about 20 minutes on 2 cores; log: ${log})`);
  const started = Date.now();
  const code = await run("bash", [path.join(recipe, "build-all.sh")], {
    env: { ...process.env, RE_BIN: partial, RE_WORK: work },
    log,
  });
  if (code !== 0) throw new Error(`the real-engine build failed (exit ${code}); see ${log}`);
  writeKwokStages(partial);
  if (!complete(partial)) throw new Error(`the real-engine build left ${partial} incomplete; see ${log}`);
  fs.renameSync(partial, bin);
  say(`built the real engine in ${Math.round((Date.now() - started) / 1000)} s`);
  return { bin, standIns, recipe, work };
}

/** Providers whose credentials do not exist here, and why: the lane loads its stand-in for each. */
export const NO_CREDENTIALS: Record<string, string> = {
  vault: "Vault: no Vault server or token here",
  github: "GitHub: no token or repository here",
  pulumiservice: "Pulumi Cloud: no access token or organisation here",
};
const NO_CREDENTIAL_PACKAGES = Object.keys(NO_CREDENTIALS);
const STAND_IN_SOURCE = path.join(PROJECT_ROOT, "tools", "e2e", "no-credentials-provider", "main.go");

/** Builds tools/e2e/no-credentials-provider once per version of its source (seconds, on sdk/v3 alone). */
async function ensureNoCredentialProviders(root: string, log: string): Promise<string> {
  const source = fs.readFileSync(STAND_IN_SOURCE);
  const hash = createHash("sha256").update(source).digest("hex").slice(0, 12);
  const dir = path.join(root, `no-credentials-${ENGINE_VERSIONS.pulumi}-${hash}`);
  const binaries = NO_CREDENTIAL_PACKAGES.map((p) => path.join(dir, `pulumi-resource-${p}`));
  if (binaries.every((b) => fs.existsSync(b))) return dir;
  const module = path.join(root, "work", `no-credentials-${hash}`);
  fs.mkdirSync(module, { recursive: true });
  fs.writeFileSync(path.join(module, "main.go"), source);
  fs.writeFileSync(
    path.join(module, "go.mod"),
    `module doc-rag/e2e/nocredentials\n\ngo 1.25.11\n\nrequire github.com/pulumi/pulumi/sdk/v3 v${ENGINE_VERSIONS.pulumi}\n`,
  );
  const partial = `${dir}.partial`;
  fs.mkdirSync(partial, { recursive: true });
  const built = path.join(partial, "no-credentials-provider");
  if (
    (await run("go", ["mod", "tidy"], { cwd: module, log })) !== 0 ||
    (await run("go", ["build", "-o", built, "."], { cwd: module, log })) !== 0
  ) {
    throw new Error(`building the no-credentials provider stand-in failed; see ${log}`);
  }
  // One binary under each package's plugin name: it takes its package from its own name.
  for (const p of NO_CREDENTIAL_PACKAGES) fs.copyFileSync(built, path.join(partial, `pulumi-resource-${p}`));
  fs.chmodSync(partial, 0o755);
  for (const p of NO_CREDENTIAL_PACKAGES) fs.chmodSync(path.join(partial, `pulumi-resource-${p}`), 0o755);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(partial, dir);
  return dir;
}
