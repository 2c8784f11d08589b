import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { CONFIG_KEYS } from "../components/config";
import { policies } from "../policies/pack";
import { configurationDoc, generatedDocs, policiesDoc } from "../tools/docs";
import { PROJECT_ROOT } from "./harness";

describe("the documentation", () => {
  it("holds exactly what `npm run docs` generates from the code: config schema, policies, charts, diagram", async () => {
    for (const [file, text] of Object.entries(await generatedDocs())) {
      const committed = fs.readFileSync(path.join(PROJECT_ROOT, file), "utf8");
      assert.ok(committed === text, `${file} differs from what the code generates: run npm run docs`);
    }
  });

  it("documents every config key and every leaf of its schema, with defaults", () => {
    const doc = configurationDoc();
    for (const name of Object.keys(CONFIG_KEYS)) assert.match(doc, new RegExp(`^## ${name}$`, "m"), name);
    assert.match(doc, /^\| `postgres\.backups\.schedule` \| string \| `0 0 2 \* \* \*` \|/m);
    assert.ok(doc.includes("| `kubernetesVersion` | string | `1.36` | matches `^1\\.(0\\|[1-9]\\d*)$` |"));
    assert.match(doc, /^\| \[`doc-rag:vaultToken`\]\(#vaulttoken\) \| string \| \*\*yes\*\* \|/m);
  });

  it("documents every policy with its level in each stack, and its settings", () => {
    const doc = policiesDoc();
    for (const p of policies) assert.match(doc, new RegExp(`^\\| \`${p.name}\` \\|`, "m"), p.name);
    assert.match(
      doc,
      /^\| `container-resources` \| resource \| operations \| advisory \| advisory \| advisory \| advisory \| mandatory \|/m,
    );
    assert.match(doc, /^\| `minReplicas` \| integer \| `2` \|/m);
  });

  it("keeps the README a front door: at most 200 lines, none over 120 characters", () => {
    const lines = fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8").trimEnd().split("\n");
    assert.ok(lines.length <= 200, `${lines.length} lines`);
    assert.deepEqual(
      lines.filter((l) => l.length > 120),
      [],
    );
  });
});
