/**
 * tsx tools/evaluate.ts <stack>: evaluates the program for one stack under the harness in
 * this process and prints how many resources it registered. The benchmark times it.
 */
import { runStack } from "../test/harness";

async function evaluate(stack: string): Promise<number> {
  const run = await runStack(stack);
  if (run.error) {
    console.error(run.error.message);
    return 1;
  }
  console.log(`${run.stack}: ${run.resources.length} resources`);
  return 0;
}

evaluate(process.argv[2] ?? "dev").then((code) => process.exit(code));
