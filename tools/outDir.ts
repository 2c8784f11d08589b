/**
 * The --out directory of plan, render and flows: checked before anything runs, and never emptied
 * of what the tools did not write. Each records what it wrote in DIR/.doc-rag-output, and the next
 * run removes exactly those files before writing afresh.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "../test/harness/paths";
import { stackNameProblem } from "../test/harness/stackConfig";

/** Where a tool writes for a stack: --out, else .plan/<stack> in the project; a stack name is never a path. */
export function outDirOf(stack: string, given: string | undefined): string {
  const problem = stackNameProblem(stack);
  if (problem) throw new Error(`stack ${JSON.stringify(stack)}: ${problem}; nothing was read or written`);
  return path.resolve(given ?? path.join(PROJECT_ROOT, ".plan", stack));
}

const MARKER = ".doc-rag-output";
/** What the tools write at the top of an output directory; a directory holding only these is theirs. */
const OURS = new Set([
  MARKER,
  "manifests",
  "resources.json",
  "policy-report.json",
  "rendered",
  "render-report.json",
  "flows.json",
  "flows.dot",
]);
const VIRTUAL = ["/proc", "/sys", "/dev"];

/**
 * Why `out` cannot take a tool's output, in one line, or undefined; writes nothing. A file, a virtual
 * file system, a directory holding files the tools did not write, or a place that cannot be written.
 */
export function checkOut(out: string): string | undefined {
  const dir = path.resolve(out);
  const problem = (why: string) => `--out ${out}: ${why}`;
  if (VIRTUAL.some((v) => dir === v || dir.startsWith(`${v}/`)))
    return problem(`is on a virtual file system (${VIRTUAL.join(", ")}), not a place for files`);
  try {
    if (fs.existsSync(dir)) {
      if (!fs.statSync(dir).isDirectory()) return problem("is a file, not a directory");
      const foreign = fs.readdirSync(dir).filter((f) => !OURS.has(f));
      if (foreign.length)
        return problem(
          `already holds files these tools did not write (${foreign.slice(0, 3).join(", ")}${foreign.length > 3 ? ", …" : ""}); give an empty or new directory`,
        );
      fs.accessSync(dir, fs.constants.W_OK);
      return undefined;
    }
    // A new directory: its nearest existing ancestor must be a directory we may write in.
    let parent = path.dirname(dir);
    while (!fs.existsSync(parent)) parent = path.dirname(parent);
    if (!fs.statSync(parent).isDirectory()) return problem(`cannot be created: ${parent} is a file`);
    fs.accessSync(parent, fs.constants.W_OK);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return problem(`cannot be written (${e.code ?? e.message})`);
  }
  return undefined;
}

/** Creates `out` (checked by checkOut) and removes what this tool's last run there wrote, nothing else. */
export function prepareOut(out: string, tool: string): void {
  const dir = path.resolve(out);
  fs.mkdirSync(dir, { recursive: true });
  const record = written(dir);
  for (const file of record[tool] ?? []) fs.rmSync(path.join(dir, file), { force: true });
  fs.writeFileSync(path.join(dir, MARKER), JSON.stringify({ ...record, [tool]: [] }, null, 1) + "\n");
}

/** What each tool last wrote in `dir`, relative to it (never outside it). */
function written(dir: string): Record<string, string[]> {
  try {
    const record = JSON.parse(fs.readFileSync(path.join(dir, MARKER), "utf8")) as Record<string, unknown>;
    return Object.fromEntries(
      Object.entries(record).map(([tool, files]) => [
        tool,
        Array.isArray(files)
          ? files.filter((f): f is string => typeof f === "string" && !f.split(/[\\/]/).includes(".."))
          : [],
      ]),
    );
  } catch {
    return {};
  }
}

/** Records files (absolute, or relative to `out`) as this tool's, for its next run to remove. */
export function recordWritten(out: string, tool: string, files: string[]): void {
  const dir = path.resolve(out);
  const record = written(dir);
  const mine = new Set([...(record[tool] ?? []), ...files.map((f) => path.relative(dir, path.resolve(dir, f)))]);
  fs.writeFileSync(path.join(dir, MARKER), JSON.stringify({ ...record, [tool]: [...mine].sort() }, null, 1) + "\n");
}
