import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "../lib/paths";
import { withoutCoverage } from "./harness/tools";

/** Every npm script that runs a tool: `npm run <script>` → `node tools/launch.cjs <tool>`. */
const scripts = Object.entries(
  (JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> })
    .scripts,
).flatMap(([script, command]) => {
  const tool = /^node tools\/launch\.cjs (\w+)$/.exec(command)?.[1];
  return tool ? [[script, tool] as const] : [];
});

describe("the command-line tools answer --help", () => {
  it("there are tools to ask", () => assert.ok(scripts.length >= 10, String(scripts.length)));
  for (const [script, tool] of scripts) {
    it(`npm run ${script} -- --help prints its usage first, runs nothing, exits 0`, () => {
      const result = spawnSync(process.execPath, [path.join(PROJECT_ROOT, "tools", "launch.cjs"), tool, "--help"], {
        encoding: "utf8",
        env: withoutCoverage(),
      });
      assert.equal(result.status, 0, result.stderr);
      assert.ok(result.stdout.startsWith(`npm run ${script}`), result.stdout.slice(0, 200));
      assert.ok(result.stdout.split("\n").length > 3, "more than the usage line");
    });
  }
});
