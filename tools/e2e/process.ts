/** Child processes of the e2e lane: run to completion with output kept in a log, or captured. */
import { spawn } from "node:child_process";
import * as fs from "node:fs";

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Append the command line and its output to this file. */
  log?: string;
  /** Standard input. */
  input?: string;
  /** Share this process's terminal (output shown as it comes, nothing captured or logged). */
  inherit?: boolean;
}

/** Runs a command to completion; its output goes to the log (or the terminal). Resolves with the exit code. */
export async function run(command: string, args: string[], options: RunOptions = {}): Promise<number> {
  if (options.inherit) {
    return new Promise((resolve, reject) => {
      const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: "inherit" });
      child.on("error", reject);
      child.on("close", (code) => resolve(code ?? 1));
    });
  }
  return (await capture(command, args, options)).code;
}

/** Runs a command to completion and returns its exit code and output (also appended to the log). */
export function capture(
  command: string,
  args: string[],
  options: RunOptions = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: "pipe" });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const log = options.log ? fs.createWriteStream(options.log, { flags: "a" }) : undefined;
    log?.write(`\n$ ${[command, ...args].join(" ")}\n`);
    child.stdout.on("data", (d: Buffer) => (out.push(d), log?.write(d)));
    child.stderr.on("data", (d: Buffer) => (err.push(d), log?.write(d)));
    child.on("error", reject);
    child.on("close", (code) => {
      log?.end();
      resolve({
        code: code ?? 1,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      });
    });
    child.stdin.end(options.input ?? "");
  });
}
