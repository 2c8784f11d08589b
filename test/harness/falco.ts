/**
 * What a Falco condition refers to: macros (bare names where a condition is expected) and lists
 * (names inside `in (...)`, `pmatch (...)`, `intersects (...)`), so tests can check every one is
 * defined by the rules Falco loads. Falco stops on an undefined macro.
 */
import * as fs from "node:fs";
import { parse } from "yaml";

const KEYWORDS = new Set(["and", "or", "not"]);

export interface FalcoReferences {
  macros: string[];
  lists: string[];
}

export function falcoReferences(condition: string): FalcoReferences {
  const lists: string[] = [];
  const text = condition
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\b(in|pmatch|intersects)\s*\(([^)]*)\)/g, (_m, op: string, items: string) => {
      // A bare name with an underscore is a list reference; other items are values.
      for (const item of items.split(",").map((i) => i.trim()))
        if (/^[a-z][a-z0-9]*_[a-z0-9_]+$/.test(item)) lists.push(item);
      return `${op} LIST`;
    });
  const macros = text
    .split(/\(|\)|\band\b|\bor\b|\bnot\b/)
    .map((atom) => atom.trim())
    .filter((atom) => /^[a-z_][a-z0-9_]*$/.test(atom) && !KEYWORDS.has(atom));
  return { macros, lists };
}

/** Macro and list names a Falco rules file defines. */
export function falcoDefinitions(entries: Record<string, unknown>[]): { macros: Set<string>; lists: Set<string> } {
  return {
    macros: new Set(entries.flatMap((e) => (typeof e["macro"] === "string" ? [e["macro"]] : []))),
    lists: new Set(entries.flatMap((e) => (typeof e["list"] === "string" ? [e["list"]] : []))),
  };
}

export function readFalcoRules(file: string): Record<string, unknown>[] {
  return (parse(fs.readFileSync(file, "utf8")) ?? []) as Record<string, unknown>[];
}
