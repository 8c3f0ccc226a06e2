// SQL written by honker-ts binds LIMIT and OFFSET through CAST(? AS INTEGER), never a bare
// parameter: SQLite (3.51, in Node and Deno) lets a bare parameter there steer the query plan,
// so every new binding re-prepares the statement (a batch claim cost 123 µs where it now costs
// 47). ARCHITECTURE.md, "Code style".

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const ROOT = new URL("..", import.meta.url).pathname;
// Not testing/: the driver conformance suite binds a bare LIMIT on purpose (a binding must).
const SOURCE_DIRS = ["core", "dashboard", "cli", "bridges", "adapters", "wake"];
const BARE_BOUND_LIMIT = /\b(LIMIT|OFFSET)\s+\?/g;

function tsFiles(path: string): string[] {
  if (statSync(path).isFile()) return path.endsWith(".ts") ? [path] : [];
  return readdirSync(path).flatMap((name) => tsFiles(join(path, name)));
}

/** `file:line: text` for every bare bound LIMIT or OFFSET in `source`. */
function bareLimits(file: string, source: string): string[] {
  return [...source.matchAll(BARE_BOUND_LIMIT)].map((match) => {
    const line = source.slice(0, match.index).split("\n").length;
    return `${file}:${line}: ${source.split("\n")[line - 1].trim()}`;
  });
}

describe("SQL style", () => {
  it("the check finds a bare bound LIMIT and OFFSET, and passes the cast form", () => {
    assert.equal(bareLimits("x.ts", "SELECT 1 LIMIT ? OFFSET ?2").length, 2);
    assert.deepEqual(bareLimits("x.ts", "SELECT 1 LIMIT CAST(? AS INTEGER) OFFSET 3"), []);
  });

  it("no source file binds LIMIT or OFFSET through a bare parameter", () => {
    const found = SOURCE_DIRS.flatMap((dir) => tsFiles(join(ROOT, dir)))
      .flatMap((file) => bareLimits(file.slice(ROOT.length), readFileSync(file, "utf8")));
    assert.deepEqual(found, [], "write LIMIT CAST(? AS INTEGER) instead:\n" + found.join("\n"));
  });
});
