/** Where the project's files are, whether its code runs from its sources or from dist/<hash>/. */
import * as fs from "node:fs";
import * as path from "node:path";

/** The nearest folder at or above `from` that holds Pulumi.yaml. */
export function projectRootFrom(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "Pulumi.yaml"))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no Pulumi.yaml at or above ${from}`);
  }
}

/**
 * Where a project's stack files are, given its parsed Pulumi.yaml: its `stackConfigDir` (relative
 * to the project, as the CLI reads it; the layer projects share the repository root's), else the
 * project folder itself.
 */
export function stackConfigDirOf(projectDir: string, project: Record<string, unknown>): string {
  const dir = project["stackConfigDir"];
  return typeof dir === "string" ? path.resolve(projectDir, dir) : projectDir;
}
