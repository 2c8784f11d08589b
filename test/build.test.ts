import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT_ROOT } from "./harness";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- plain CommonJS, run before any build
const { ensureBuilt } = require("../tools/build.cjs") as {
  ensureBuilt(root?: string): { dir: string; built: boolean };
};

const COPIED = [
  "index.ts",
  "tsconfig.json",
  "package-lock.json",
  "components",
  "policies",
  "tools",
  "deployments",
  "lib",
  "projects",
];

describe("npm run build (what the npm scripts run from)", () => {
  let root: string;
  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "doc-rag-build-"));
    for (const entry of [...COPIED, path.join("test", "harness")]) {
      fs.cpSync(path.join(PROJECT_ROOT, entry), path.join(root, entry), {
        recursive: true,
        filter: (src) => !src.split(path.sep).includes("node_modules"),
      });
    }
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it("builds once, reuses a current build, and rebuilds (dropping the old one) when a source changes", () => {
    const first = ensureBuilt(root);
    assert.equal(first.built, true);
    assert.ok(fs.existsSync(path.join(first.dir, "tools", "plan.js")));
    assert.ok(fs.existsSync(path.join(first.dir, "index.js")));
    assert.ok(!fs.existsSync(path.join(first.dir, "test", "build.test.js")), "tests are not part of the build");

    assert.deepEqual(ensureBuilt(root), { dir: first.dir, built: false });

    const labels = path.join(root, "components", "labels.ts");
    fs.appendFileSync(labels, "\nexport const CHANGED_FOR_THE_TEST = 1;\n");
    const second = ensureBuilt(root);
    assert.equal(second.built, true);
    assert.notEqual(second.dir, first.dir);
    assert.match(fs.readFileSync(path.join(second.dir, "components", "labels.js"), "utf8"), /CHANGED_FOR_THE_TEST/);
    assert.deepEqual(fs.readdirSync(path.dirname(second.dir)), [path.basename(second.dir)], "stale builds are removed");
  });
});
