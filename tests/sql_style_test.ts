// Two rules for SQL written by honker-ts, both because SQLite re-prepares a statement at every
// new binding when the bound value may steer its plan (ARCHITECTURE.md, "Code style"):
//
// - LIMIT and OFFSET are bound through CAST(? AS INTEGER), never a bare parameter (SQLite 3.51,
//   in Node and Deno: a batch claim cost 123 µs where it now costs 47).
// - In a statement that sorts or takes min()/max() (an ORDER BY, GROUP BY, min( or max( anywhere
//   in it), a column compared equal to a bound value is compared to CAST(? AS TEXT) or
//   CAST(? AS INTEGER), never a bare parameter (SQLite 3.54, in bun:sqlite and better-sqlite3:
//   work()'s look cost 53 µs on Bun and 85 on better-sqlite3 where it now costs 10).
//
// tests/sql_reprepare_test.ts measures the second on every driver.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { sqlExports } from "../testing/_core_sql.ts";

const ROOT = new URL("..", import.meta.url).pathname;
// Not testing/: the driver conformance suite binds a bare LIMIT on purpose (a binding must).
const SOURCE_DIRS = ["core", "dashboard", "cli", "bridges", "adapters", "wake"];
const BARE_BOUND_LIMIT = /\b(LIMIT|OFFSET)\s+\?/g;
/** A statement whose plan may use an index's order: SQLite 3.54 checks its equalities' values. */
const SORTS = /\b(ORDER BY|GROUP BY|min\(|max\()/i;
/** `column = ?`, `column == ?`, `column IS ?` with a bare parameter (ranges are not affected). */
const BARE_BOUND_EQUALITY = /[\w.]+\s*(?:(?<![<>!=])=|==|\bIS)\s*\?\d*/g;
/** An UPDATE's SET list assigns; it compares nothing. */
const SET_LIST = /\bSET\b[\s\S]*?\bWHERE\b/g;

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

/** The bare bound equalities of one statement, when it sorts; none when it does not. */
function bareEqualities(sql: string): string[] {
  const compared = sql.replace(SET_LIST, "WHERE");
  if (!SORTS.test(compared)) return [];
  return [...compared.matchAll(BARE_BOUND_EQUALITY)].map((match) => match[0]);
}

/** The SQL modules: every `sql.ts` and `*_sql.ts` (all of honker-ts's SQL lives in them). */
function sqlModules(): string[] {
  return SOURCE_DIRS.flatMap((dir) => tsFiles(join(ROOT, dir)))
    .filter((file) => /(^|[/_])sql\.ts$/.test(file));
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

  it("the check finds a bare bound equality in a sorting statement, and passes the rest", () => {
    assert.deepEqual(
      bareEqualities("SELECT a FROM t WHERE q = ? AND b.c == ?2 AND d IS ? ORDER BY a"),
      ["q = ?", "b.c == ?2", "d IS ?"],
    );
    assert.deepEqual(bareEqualities("SELECT max(a) FROM t WHERE q = ?"), ["q = ?"]);
    assert.deepEqual(bareEqualities("SELECT a FROM t WHERE q = ? GROUP BY a"), ["q = ?"]);
    // Cast, a range, an assignment, or a statement that does not sort: nothing to find.
    assert.deepEqual(
      bareEqualities(
        "UPDATE t SET w = ?, x = ? WHERE id IN (SELECT id FROM t WHERE q = CAST(? AS TEXT) " +
          "AND r <= ? AND s >= ? AND u != ? ORDER BY id)",
      ),
      [],
    );
    assert.deepEqual(bareEqualities("SELECT count(*) FROM t WHERE q = ?"), []);
  });

  it("no statement that sorts compares a column with a bare parameter", async () => {
    const found: string[] = [];
    const modules = sqlModules();
    assert.ok(modules.length >= 10, `found only ${modules.length} SQL modules`);
    for (const file of modules) {
      const exports: Record<string, unknown> = await import(pathToFileURL(file).href);
      for (const { name, sql } of sqlExports(file.slice(ROOT.length), exports)) {
        const bare = bareEqualities(sql);
        if (bare.length > 0) found.push(`${name}: ${bare.join(", ")}`);
      }
    }
    assert.deepEqual(
      found,
      [],
      "write column = CAST(? AS TEXT) (or AS INTEGER) instead:\n" + found.join("\n"),
    );
  });
});
