/**
 * The README's quick start, run as a new user would, command by command, and every `$ npm run …`
 * example it shows, against the output it shows. `npm ci` and `npm test` are what runs this test.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { captureConsole } from "./harness/console";
import { PROJECT_ROOT } from "../lib/paths";

const README = fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");
const SCRIPTS = (
  JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }
).scripts;

/** `npm run <script> -- args` → the tool's main() and its arguments (quotes as a shell reads simple ones). */
function toolOf(command: string): { main: (argv: string[]) => Promise<number>; argv: string[] } {
  const [, script = "", rest = ""] = /^npm run (\S+)(?: -- (.*))?$/.exec(command.trim()) ?? [];
  const tool = /^node tools\/launch\.cjs (\w+)$/.exec(SCRIPTS[script] ?? "")?.[1];
  if (!tool) throw new Error(`${command}: not a tool of this repository`);
  const argv = [...rest.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? "");
  // The tool's module, by its script's name.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const module = require(path.join(PROJECT_ROOT, "tools", tool)) as { main(a: string[]): Promise<number> };
  return { main: module.main, argv };
}

/** The quick start's commands: the first sh block after its heading, comments dropped. */
const quickstart = (() => {
  const section = README.slice(README.indexOf("## Quickstart"));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
  return block
    .split("\n")
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter(Boolean);
})();

/** Every ```text block that starts with `$ npm run …`: the command and the output shown for it. */
const examples = [...README.matchAll(/```text\n\$ (npm run [^\n]+)\n([\s\S]*?)```/g)].map((m) => ({
  command: m[1] ?? "",
  output: (m[2] ?? "").trimEnd(),
}));

/** What each quick-start command must do for a new user on a machine without the chart cache, or with it. */
const EXPECT: Record<string, (r: { code: number; said: string }) => void> = {
  "npm run plan -- production": (r) => {
    assert.equal(r.code, 0, r.said);
    assert.match(r.said, /^Plan for stack production: \d+ resources/m);
    assert.match(r.said, /0 mandatory and \d+ advisory violations/);
  },
  "npm run policy:check": (r) => {
    assert.equal(r.code, 0, r.said);
    assert.match(r.said, /\d+ objects in \d+ files, level all: 0 mandatory/);
  },
  "npm run render -- production": (r) => {
    if (r.code === 0) return;
    assert.equal(r.code, 1, r.said);
    assert.match(r.said, /not in the chart cache .*; run npm run charts:pull/);
  },
};

describe("the README's quick start, command by command", function () {
  this.timeout(120_000);
  it("has the commands a new user runs", () => {
    assert.equal(quickstart[0], "npm ci");
    assert.equal(quickstart.at(-1), "npm test");
    assert.ok(examples.length >= 1);
  });
  for (const command of quickstart.filter((c) => c !== "npm ci" && c !== "npm test")) {
    it(command, async () => {
      const expect = Object.entries(EXPECT).find(([prefix]) => command.startsWith(prefix))?.[1];
      assert.ok(expect, `no expectation for ${command}: add one`);
      const { main, argv } = toolOf(command);
      const { code, stdout, stderr } = await captureConsole(() => main(argv));
      expect({ code, said: `${stderr}\n${stdout}` });
    });
  }
  for (const example of examples) {
    it(`$ ${example.command} prints what the README shows`, async () => {
      const { main, argv } = toolOf(example.command);
      const { stdout, stderr } = await captureConsole(() => main(argv));
      assert.equal(`${stderr}\n${stdout}`.trim(), example.output);
    });
  }
});
