/**
 * node dist/<build>/tools/evaluate.js <stack> [--modules FILE]: evaluates the program for one
 * stack under the harness in this process and prints how many resources it registered. The
 * benchmark times it. With --modules, also writes every dependency module the evaluation
 * loaded (node_modules files, in load order), which the benchmark's floor then loads.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { runStack } from "../lib";

/** The files under node_modules this process has loaded so far, in load order. */
export function dependencyModules(): string[] {
  return Object.keys(require.cache).filter((id) => id.split(path.sep).includes("node_modules"));
}

async function evaluate(stack: string, modulesFile?: string): Promise<number> {
  const run = await runStack(stack);
  if (run.error) {
    console.error(run.error.message);
    return 1;
  }
  if (modulesFile) fs.writeFileSync(modulesFile, JSON.stringify(dependencyModules()));
  console.log(`${run.stack}: ${run.resources.length} resources`);
  return 0;
}

const [stack = "dev", flag, file] = process.argv.slice(2);
evaluate(stack, flag === "--modules" ? file : undefined).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
