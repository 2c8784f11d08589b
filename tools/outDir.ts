/**
 * The --out directory of plan, render, flows and migrate. It is checked before anything runs, and it is
 * never emptied of what the tools did not write. Each tool records what it writes in
 * DIR/.doc-rag-output *before* writing it, so a run cut short leaves nothing the next run does not
 * know to remove. A lock keeps two runs out of one directory, every file is written whole (a
 * temporary file, then a rename), and no path is ever followed through a symbolic link: a link
 * inside --out, at --out, or on the way to the default .plan/<stack> is refused by name.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "../lib/paths";
import { stackNameProblem } from "../lib/stackConfig";

/** Where a tool writes for a stack: --out, else .plan/<stack> in the project; a stack name is never a path. */
export function outDirOf(stack: string, given: string | undefined): string {
  const problem = stackNameProblem(stack);
  if (problem) throw new Error(`stack ${JSON.stringify(stack)}: ${problem}; nothing was read or written`);
  return path.resolve(given ?? path.join(PROJECT_ROOT, ".plan", stack));
}

const MARKER = ".doc-rag-output";
const LOCK = ".doc-rag-output.lock";
/** Where whole files are prepared before their rename into place; emptied by every run. */
const STAGING = ".doc-rag-tmp";
/** What the tools write at the top of an output directory; a directory holding only these is theirs. */
const OURS = new Set([
  MARKER,
  LOCK,
  STAGING,
  "manifests",
  "resources.json",
  "policy-report.json",
  "rendered",
  "render-report.json",
  "flows.json",
  "flows.dot",
  "migrate.sh",
]);
const VIRTUAL = ["/proc", "/sys", "/dev"];

const isLink = (p: string) => {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
};

/** The first symbolic link among `dir`'s components inside the project (what a pull request can commit), and `dir` itself. */
function linkOnTheWay(dir: string): string | undefined {
  const inProject = path.relative(PROJECT_ROOT, dir);
  const steps =
    inProject && !inProject.startsWith("..") && !path.isAbsolute(inProject)
      ? inProject.split(path.sep).map((_, i, all) => path.join(PROJECT_ROOT, ...all.slice(0, i + 1)))
      : [dir];
  return steps.find(isLink);
}

/** Every symbolic link under `dir`, found without following one (so a link loop ends the walk too). */
function linksUnder(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isSymbolicLink()) found.push(p);
      else if (entry.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return found;
}

/**
 * Why `out` cannot take a tool's output, in one line, or undefined; writes nothing. A file, a virtual
 * file system, a symbolic link, a directory holding files the tools did not write or links, or a
 * place that cannot be written.
 */
export function checkOut(out: string): string | undefined {
  const dir = path.resolve(out);
  const problem = (why: string) => `--out ${out}: ${why}`;
  if (VIRTUAL.some((v) => dir === v || dir.startsWith(`${v}/`)))
    return problem(`is on a virtual file system (${VIRTUAL.join(", ")}), not a place for files`);
  const link = linkOnTheWay(dir);
  if (link)
    return problem(
      `${link} is a symbolic link (to ${fs.readlinkSync(link)}); the tools never write through a link they did not create: remove it`,
    );
  try {
    if (fs.existsSync(dir)) {
      if (!fs.statSync(dir).isDirectory()) return problem("is a file, not a directory");
      const foreign = fs.readdirSync(dir).filter((f) => !OURS.has(f));
      if (foreign.length)
        return problem(
          `already holds files these tools did not write (${foreign.slice(0, 3).join(", ")}${foreign.length > 3 ? ", …" : ""}); give an empty or new directory`,
        );
      const [link] = linksUnder(dir);
      if (link)
        return problem(
          `holds a symbolic link the tools did not create (${path.relative(dir, link)} → ${fs.readlinkSync(link)}); the tools never write through one: remove it`,
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

/** A file system error as one line that names the file: the code and what it means. */
const failed = (verb: string, file: string, err: unknown) => {
  const e = err as NodeJS.ErrnoException;
  return new Error(
    `cannot ${verb} ${file}: ${e.code ? `${e.code} (${e.message.replace(/^\w+: /, "").split(",")[0]})` : e.message}`,
  );
};

/** Holders of a lock in this process, released when it exits however it exits short of a kill. */
const held = new Set<string>();
process.on("exit", () => held.forEach((lock) => fs.rmSync(lock, { force: true })));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
};

/** One tool's run in one --out directory: locked, cleared of its last run, written file by file. */
class OutDir {
  private closed = false;
  private constructor(
    readonly dir: string,
    readonly tool: string,
    private readonly lock: string,
  ) {}

  /**
   * Takes --out for `tool` (checked by checkOut first): creates it, locks it against a second run,
   * and removes what this tool's last run there recorded, nothing else.
   */
  static open(out: string, tool: string): OutDir {
    const problem = checkOut(out);
    if (problem) throw new Error(problem);
    const dir = path.resolve(out);
    fs.mkdirSync(dir, { recursive: true });
    const lock = path.join(dir, LOCK);
    const take = () => fs.writeFileSync(lock, JSON.stringify({ pid: process.pid, tool }) + "\n", { flag: "wx" });
    try {
      take();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw failed("lock", lock, err);
      let owner: { pid?: unknown; tool?: unknown } = {};
      try {
        owner = JSON.parse(fs.readFileSync(lock, "utf8")) as typeof owner;
      } catch {
        // A lock cut short while written: its run is gone.
      }
      if (typeof owner.pid === "number" && alive(owner.pid))
        throw new Error(
          `--out ${out}: another run (${String(owner.tool)}, pid ${owner.pid}) is writing there; wait for it, or give another --out`,
        );
      fs.rmSync(lock, { force: true }); // its run ended without releasing it (killed)
      take();
    }
    held.add(lock);
    const self = new OutDir(dir, tool, lock);
    try {
      fs.rmSync(path.join(dir, STAGING), { recursive: true, force: true });
      const record = readRecord(dir);
      for (const file of record[tool] ?? []) removeFile(path.join(dir, file));
      self.saveRecord({ ...record, [tool]: [] });
    } catch (err) {
      self.close();
      throw err;
    }
    return self;
  }

  /** Writes files (paths relative to the directory), each whole, having recorded them all first. */
  writeAll(files: readonly (readonly [string, string])[]): string[] {
    if (this.closed) throw new Error(`--out ${this.dir}: already closed`);
    const placed = files.map(([file, text]) => [this.inside(file), text] as const);
    const record = readRecord(this.dir);
    const mine = [...(record[this.tool] ?? []), ...placed.map(([file]) => file)];
    this.saveRecord({ ...record, [this.tool]: [...new Set(mine)].sort() });
    return placed.map(([file, text]) => this.writeWhole(file, text));
  }

  /** Releases the lock; what was written stays. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    fs.rmSync(path.join(this.dir, STAGING), { recursive: true, force: true });
    fs.rmSync(this.lock, { force: true });
    held.delete(this.lock);
  }

  /** A path relative to the directory that stays inside it. */
  private inside(file: string): string {
    const relative = path.relative(this.dir, path.resolve(this.dir, file));
    if (!relative || relative.startsWith("..") || path.isAbsolute(relative))
      throw new Error(`--out ${this.dir}: ${file} is not inside it`);
    return relative;
  }

  /** Creates the file's folders one by one, refusing any component that is a link or a file. */
  private folders(relative: string): void {
    let at = this.dir;
    for (const part of path
      .dirname(relative)
      .split(path.sep)
      .filter((p) => p && p !== ".")) {
      at = path.join(at, part);
      let stat: fs.Stats | undefined;
      try {
        stat = fs.lstatSync(at);
      } catch {
        stat = undefined;
      }
      if (!stat) fs.mkdirSync(at);
      else if (!stat.isDirectory())
        throw new Error(
          `cannot write under ${at}: it is ${stat.isSymbolicLink() ? "a symbolic link" : "not a directory"}`,
        );
    }
  }

  /** A temporary file in the directory's staging folder, then a rename: a reader sees all or nothing. */
  private writeWhole(relative: string, text: string): string {
    const target = path.join(this.dir, relative);
    const staging = path.join(this.dir, STAGING);
    const temporary = path.join(staging, `${process.pid}-${relative.replace(/[\\/]/g, "__")}`);
    try {
      this.folders(relative);
      fs.mkdirSync(staging, { recursive: true });
      fs.writeFileSync(temporary, text, { flag: "wx" });
      fs.renameSync(temporary, target); // replaces a link at the target, never writes through it
    } catch (err) {
      fs.rmSync(temporary, { force: true });
      throw err instanceof Error && !("code" in err) ? err : failed("write", target, err);
    }
    return target;
  }

  private saveRecord(record: Record<string, string[]>): void {
    this.writeWhole(MARKER, JSON.stringify(record, null, 1) + "\n");
  }
}

/** Removes a recorded file; a folder or anything else of that name is left alone. */
function removeFile(file: string): void {
  try {
    if (fs.lstatSync(file).isFile()) fs.unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw failed("remove", file, err);
  }
}

/** What each tool last wrote in `dir`, relative to it (never outside it). */
function readRecord(dir: string): Record<string, string[]> {
  try {
    const record = JSON.parse(fs.readFileSync(path.join(dir, MARKER), "utf8")) as Record<string, unknown>;
    return Object.fromEntries(
      Object.entries(record).map(([tool, files]) => [
        tool,
        Array.isArray(files)
          ? files.filter(
              (f): f is string => typeof f === "string" && !path.isAbsolute(f) && !f.split(/[\\/]/).includes(".."),
            )
          : [],
      ]),
    );
  } catch {
    return {};
  }
}

/**
 * Writes a tool's files (paths relative to `out`) into --out: takes the directory's lock, removes what
 * the tool wrote there last, records and writes each file whole, and releases the lock.
 */
export function writeOut(out: string, tool: string, files: readonly (readonly [string, string])[]): string[] {
  const dir = OutDir.open(out, tool);
  try {
    return dir.writeAll(files);
  } finally {
    dir.close();
  }
}
