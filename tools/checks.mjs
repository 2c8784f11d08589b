// npm test's static checks in one process: the type-check and the type-aware lint share one TypeScript
// program (its checker does the work once, where `tsc` then `eslint` would build it twice), then
// Prettier and markdownlint. Exits non-zero if any of them fails; every failure is printed.
// The lint is eslint.config.mjs as is, with the shared program in place of its project service.
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { ESLint } from "eslint";
import ts from "typescript";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
process.chdir(root);

function typeCheck() {
  const config = ts.getParsedCommandLineOfConfigFile(
    path.join(root, "tsconfig.json"),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      },
    },
  );
  const program = ts.createProgram({ rootNames: config.fileNames, options: config.options });
  const diagnostics = ts.getPreEmitDiagnostics(program);
  if (diagnostics.length > 0) {
    const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => "\n" };
    process.stdout.write(ts.formatDiagnosticsWithColorAndContext(diagnostics, host));
  }
  return { program, ok: diagnostics.length === 0 };
}

async function lint(program) {
  const eslint = new ESLint({
    cwd: root,
    overrideConfig: [
      { files: ["**/*.ts"], languageOptions: { parserOptions: { projectService: false, programs: [program] } } },
    ],
  });
  const results = await eslint.lintFiles(["."]);
  const formatter = await eslint.loadFormatter("stylish");
  const text = await formatter.format(results);
  if (text) process.stdout.write(text);
  return results.every((r) => r.errorCount === 0 && r.fatalErrorCount === 0);
}

function tool(bin, args) {
  const result = spawnSync(path.join(root, "node_modules", ".bin", bin), args, { stdio: "inherit" });
  return result.status === 0;
}

const { program, ok: typed } = typeCheck();
const linted = await lint(program);
const formatted = tool("prettier", ["--check", "--log-level", "warn", "."]);
const prose = tool("markdownlint-cli2", []);
process.exitCode = typed && linted && formatted && prose ? 0 : 1;
