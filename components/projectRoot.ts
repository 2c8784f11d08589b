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
