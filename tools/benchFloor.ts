/**
 * node dist/<build>/tools/benchFloor.js MODULES_FILE: the benchmark's floor. Loads every
 * dependency module that an evaluation of the program loads (the Pulumi SDKs and the parts of
 * them the program touches, zod, yaml, ...; the list tools/evaluate.ts --modules recorded) and
 * sets the mocks, which every evaluation pays before the program's own work.
 */
import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { mocks } from "../lib/mocks";

const modulesFile = process.argv[2];
if (!modulesFile) {
  console.error("usage: benchFloor.js MODULES_FILE");
  process.exit(2);
}
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the list is known only at run time
for (const id of JSON.parse(fs.readFileSync(modulesFile, "utf8")) as string[]) require(id);
pulumi.runtime.setMocks(mocks, "doc-rag", "floor", false).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
