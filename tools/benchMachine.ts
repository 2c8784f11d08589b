/** What every benchmark shares: the machine it ran on, and how its result is printed and recorded. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT_ROOT } from "../lib/paths";

export function machine(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? "unknown CPU";
  const memory = Math.round(os.totalmem() / 2 ** 30);
  return `${cpu}, ${os.cpus().length} cores, ${memory} GiB, ${os.platform()} ${os.release()}, Node ${process.version}`;
}

/** Prints a result; with `record`, appends it to BENCHMARKS.md. */
export function report(lines: string[], record: boolean | undefined): void {
  console.log(lines.join("\n"));
  if (record) {
    fs.appendFileSync(path.join(PROJECT_ROOT, "BENCHMARKS.md"), "\n" + lines.join("\n"));
    console.log("Appended to BENCHMARKS.md");
  }
}
