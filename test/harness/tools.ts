/**
 * External validators the tests call (promtool, amtool): installed by `.ci/run` from Debian's
 * prometheus and prometheus-alertmanager packages.
 */
import { execFileSync, spawnSync, type SpawnSyncReturns } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import type { LintProblem } from "../../tools/lintWorkflows";
import { PROJECT_ROOT } from "./run";

export interface ToolResult {
  status: number;
  stdout: string;
  /** stdout and stderr together, for messages. */
  output: string;
}

/** Runs a validator; a missing one fails with how to install it, never as a silent pass. */
export function runTool(tool: "promtool" | "amtool", args: string[], cwd?: string): ToolResult {
  const result = spawnSync(tool, args, { cwd, encoding: "utf8" });
  if (result.error) {
    throw new Error(
      `${tool} is not installed (${result.error.message}); apt-get install prometheus prometheus-alertmanager, as .ci/run does`,
    );
  }
  return { status: result.status ?? -1, stdout: result.stdout, output: `${result.stdout}${result.stderr}` };
}

/** A fresh directory with the given files written as YAML (or text); removed by `cleanup`. */
export function writeFiles(files: Record<string, unknown>): { dir: string; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "doc-rag-tool-"));
  for (const [name, content] of Object.entries(files)) {
    fs.writeFileSync(path.join(dir, name), typeof content === "string" ? content : stringify(content));
  }
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Runs a command-line tool as its npm script does (tools/launch.cjs, from dist/). */
export function launch(tool: string, args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [path.join(PROJECT_ROOT, "tools", "launch.cjs"), tool, ...args], {
    cwd: PROJECT_ROOT,
    encoding: "utf8",
  });
}

/** Runs `npm run lint:workflows` (actionlint) on files or folders in its own process, as users do. */
export function lintWorkflowFiles(paths: string[]): LintProblem[] {
  try {
    return JSON.parse(
      execFileSync(
        process.execPath,
        [path.join(PROJECT_ROOT, "tools", "launch.cjs"), "lintWorkflows", "--json", ...paths],
        {
          cwd: PROJECT_ROOT,
          encoding: "utf8",
        },
      ),
    ) as LintProblem[];
  } catch (err) {
    const stdout = (err as { stdout?: string }).stdout;
    if (stdout) return JSON.parse(stdout) as LintProblem[];
    throw err;
  }
}
