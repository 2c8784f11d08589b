/**
 * npm run build: transpiles the project's TypeScript (not its tests) to dist/ with esbuild, the
 * transpiler tsx uses, so the command-line tools start without transpiling on every call.
 * Type-checking stays with `npm run typecheck`. Each build goes to dist/<hash of the sources>/,
 * written aside and renamed into place, so a user never runs stale code and two commands started
 * at once never see a half-written build. Plain JavaScript: it must run before anything is built.
 */
"use strict";
const { createHash } = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const SOURCE_DIRS = ["components", "policies", "tools", "deployments", "lib", "projects"];
const BUILD_INPUTS = ["index.ts", "tsconfig.json", "package-lock.json", path.join("tools", "build.cjs")];

/** Every TypeScript module the tools can load, relative to the root, sorted. */
function sources(root) {
  const found = SOURCE_DIRS.flatMap((dir) =>
    fs
      .readdirSync(path.join(root, dir), { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && !f.split(path.sep).includes("node_modules"))
      .map((f) => path.join(dir, f)),
  );
  return ["index.ts", ...found].sort();
}

/** One hash over the names and contents of the sources and of what shapes the build. */
function fingerprint(root, files) {
  const hash = createHash("sha256");
  for (const file of [...new Set([...files, ...BUILD_INPUTS])]) {
    hash
      .update(file)
      .update("\0")
      .update(fs.readFileSync(path.join(root, file)))
      .update("\0");
  }
  return hash.digest("hex");
}

function build(root, files, target) {
  // Required here, not at the top: a current build never loads esbuild.
  const esbuild = require("esbuild");
  const staging = `${target}.${process.pid}.tmp`;
  esbuild.buildSync({
    entryPoints: files.map((f) => path.join(root, f)),
    outbase: root,
    outdir: staging,
    format: "cjs",
    platform: "node",
    target: "node20",
    tsconfig: path.join(root, "tsconfig.json"),
    logLevel: "warning",
  });
  try {
    fs.renameSync(staging, target);
  } catch (err) {
    // Another command built the same sources first: its copy is as good as ours.
    fs.rmSync(staging, { recursive: true, force: true });
    if (!fs.existsSync(target)) throw err;
  }
  // Earlier builds are stale; one still running from them keeps its open files.
  const dist = path.dirname(target);
  for (const old of fs.readdirSync(dist)) {
    if (path.join(dist, old) !== target && !old.endsWith(".tmp")) {
      fs.rmSync(path.join(dist, old), { recursive: true, force: true });
    }
  }
}

/** The build of the current sources under <root>/dist/, made first when there is none. */
function ensureBuilt(root = ROOT) {
  const files = sources(root);
  const target = path.join(root, "dist", fingerprint(root, files).slice(0, 16));
  const built = fs.existsSync(target);
  if (!built) build(root, files, target);
  return { dir: target, built: !built };
}

module.exports = { ensureBuilt };

if (require.main === module) {
  const started = Date.now();
  const { dir, built } = ensureBuilt();
  const shown = path.relative(process.cwd(), dir);
  console.log(built ? `Built ${shown} in ${Date.now() - started} ms` : `${shown} is current`);
}
