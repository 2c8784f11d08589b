/** Where the project's files are, whether this code runs from its sources (tsx) or from dist/. */
import * as fs from "node:fs";
import * as path from "node:path";

/** The folder two levels above this module: the repository root, or dist/ when built. */
export const CODE_ROOT = path.resolve(__dirname, "..", "..");

/** The repository root: the nearest folder at or above CODE_ROOT that holds Pulumi.yaml. */
export const PROJECT_ROOT = ((): string => {
  for (let dir = CODE_ROOT; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "Pulumi.yaml"))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no Pulumi.yaml at or above ${CODE_ROOT}`);
  }
})();
