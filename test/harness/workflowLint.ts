/**
 * actionlint over every workflow the tests look at, in one call: this repository's, the ones the
 * program generates for the application repository, and a broken one that proves the linter lints.
 * Each call starts Go's WebAssembly runtime (about 1.5 s), so the tests share one.
 */
import * as path from "node:path";
import { workflowFiles } from "../../components/governance/workflows";
import { PROJECT_ROOT } from "../../lib/paths";
import { lintWorkflowFiles, writeFiles } from "./tools";
import type { LintProblem } from "../../tools/lintWorkflows";

/** A workflow with an expression GitHub does not know: actionlint must report it. */
export const BROKEN_WORKFLOW =
  "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n";

let shared: Promise<{ own: LintProblem[]; generated: LintProblem[]; broken: LintProblem[] }> | undefined;

export function workflowLint(): Promise<{ own: LintProblem[]; generated: LintProblem[]; broken: LintProblem[] }> {
  shared ??= (async () => {
    const own = path.join(PROJECT_ROOT, ".github", "workflows");
    const generated = writeFiles(
      Object.fromEntries(Object.entries(workflowFiles()).map(([p, text]) => [path.basename(p), text])),
    );
    const broken = writeFiles({ "broken.yml": BROKEN_WORKFLOW });
    try {
      const problems = await lintWorkflowFiles([own, generated.dir, broken.dir]);
      const under = (dir: string) => problems.filter((p) => p.file.startsWith(dir + path.sep));
      return { own: under(own), generated: under(generated.dir), broken: under(broken.dir) };
    } finally {
      generated.cleanup();
      broken.cleanup();
    }
  })();
  return shared;
}
