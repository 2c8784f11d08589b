/**
 * node tools/launch.cjs <tool> [args...]: what the npm scripts run. Builds dist/ first when a
 * source changed (tools/build.cjs), then calls the tool's `main(args)` from dist/tools/ and
 * exits with its status once standard output and error have drained, so a pipe gets it all.
 * With --help or -h it prints the tool's header comment (usage, then what it does) instead.
 */
"use strict";
const path = require("node:path");
const { ensureBuilt } = require("./build.cjs");

const [name, ...args] = process.argv.slice(2);
if (!name || !/^[A-Za-z][A-Za-z0-9]*$/.test(name)) {
  console.error("usage: node tools/launch.cjs <tool> [args...]");
  process.exit(2);
}
// --help (or -h) prints the tool's own header, its usage line first, and runs nothing.
if (args.includes("--help") || args.includes("-h")) {
  const source = require("node:fs").readFileSync(path.join(__dirname, `${name}.ts`), "utf8");
  const header = /^\/\*\*\n([\s\S]*?)\n \*\//.exec(source);
  console.log(header ? header[1].replace(/^ \* ?/gm, "") : `no help for ${name}`);
  process.exit(header ? 0 : 2);
}
const tool = require(path.join(ensureBuilt().dir, "tools", `${name}.js`));

function exit(code) {
  // process.exit() would drop what a pipe has not yet read; wait for both streams to drain.
  let pending = 2;
  const done = () => --pending === 0 && process.exit(code);
  process.stdout.write("", done);
  process.stderr.write("", done);
}

tool.main(args).then(exit, (err) => {
  console.error(err instanceof Error ? err.message : String(err));
  exit(1);
});
