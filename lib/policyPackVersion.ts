/**
 * Pulumi Cloud keeps a policy pack version immutable ("Versions are immutable; change to publish a new
 * version": @pulumi/pulumiservice PolicyPack.versionTag), and the deployments program publishes
 * policies/ under policies/package.json's version. policies/published.json records the content each
 * version holds: a change to policies/ (its config JSON included) under a recorded version is refused
 * by a test, and `npm run docs` records a new version's content, refusing to overwrite an old one.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "./paths";

const POLICIES = path.join(PROJECT_ROOT, "policies");
export const PUBLISHED_FILE = path.join(POLICIES, "published.json");
/** Not part of what a version publishes: installed packages, and the ledger itself. */
const SKIPPED = new Set(["node_modules", "published.json"]);

/** The sha256 of every file the pack publishes, by path (sorted), then content. */
export function packContentHash(dir = POLICIES): string {
  const hash = createHash("sha256");
  const walk = (at: string): string[] =>
    fs
      .readdirSync(at, { withFileTypes: true })
      .filter((e) => !SKIPPED.has(e.name))
      .flatMap((e) => (e.isDirectory() ? walk(path.join(at, e.name)) : [path.join(at, e.name)]));
  for (const file of walk(dir).sort()) {
    hash.update(`${path.relative(dir, file)}\0`);
    hash.update(fs.readFileSync(file));
    hash.update("\0");
  }
  return hash.digest("hex");
}

export const packVersion = (dir = POLICIES) =>
  String((JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { version: string }).version);

/** What each published version holds. */
export function publishedVersions(file = PUBLISHED_FILE): Record<string, string> {
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, string>) : {};
}

/** Why the pack as it is cannot be published under its version; undefined when it can. */
export function packVersionProblem(dir = POLICIES, ledger = publishedVersions()): string | undefined {
  const version = packVersion(dir);
  const recorded = ledger[version];
  const content = packContentHash(dir);
  if (recorded === content) return undefined;
  if (recorded)
    return `policies/ changed since version ${version} was recorded, and Pulumi Cloud keeps a version immutable: bump policies/package.json's version, then npm run docs records it`;
  return `version ${version} of the pack is not recorded in policies/published.json: npm run docs records it`;
}

/** The ledger with the current version recorded; refuses to change what an existing version holds. */
export function recordedLedger(dir = POLICIES, ledger = publishedVersions()): Record<string, string> {
  const version = packVersion(dir);
  const content = packContentHash(dir);
  if (ledger[version] && ledger[version] !== content) throw new Error(packVersionProblem(dir, ledger));
  return { ...ledger, [version]: content };
}
