// The driver contract has positional `?` parameters only (better-sqlite3 reads `?1` as a named
// parameter and refuses an array of values for it): every SQL text the core exports keeps to
// that, and the conformance suite's "core SQL" check sees all of them.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  CORE_SQL_MODULES,
  type CoreStatement,
  sqlExports,
  sqlParameters,
} from "../testing/_core_sql.ts";

const CORE = new URL("../core/", import.meta.url);

/** The .ts files below core/, as paths relative to it. */
function coreFiles(dir = ""): string[] {
  return readdirSync(fileURLToPath(new URL(dir, CORE)), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? coreFiles(`${dir}${e.name}/`) : e.name.endsWith(".ts") ? [dir + e.name] : []
  );
}

/** Every SQL string exported by any module of core/, by its path below core/. */
async function everyCoreSqlExport(): Promise<Map<string, CoreStatement[]>> {
  const found = new Map<string, CoreStatement[]>();
  const files = coreFiles().sort();
  for (const file of files) {
    const exports = await import(new URL(file, CORE).href) as Record<string, unknown>;
    const statements = sqlExports(file, exports);
    if (statements.length > 0) found.set(file, statements);
  }
  return found;
}

describe("the core's SQL", () => {
  it("no SQL constant exported from core/ uses a numbered or named parameter", async () => {
    const modules = await everyCoreSqlExport();
    const statements = [...modules.values()].flat();
    assert.ok(statements.length >= 60, `only ${statements.length} SQL exports found`);
    const offending = statements
      .map(({ name, sql }) => ({ name, other: sqlParameters(sql).other }))
      .filter(({ other }) => other.length > 0)
      .map(({ name, other }) => `${name}: ${[...new Set(other)].join(" ")}`);
    assert.deepEqual(offending, [], "SQL with parameters other than positional `?`");
  });

  it("every core module that exports SQL is covered by the conformance suite's core SQL check", async () => {
    const modules = await everyCoreSqlExport();
    assert.deepEqual([...modules.keys()], Object.keys(CORE_SQL_MODULES).sort());
  });

  it("the parameter reader tells positional, numbered and named parameters apart, outside literals and comments", () => {
    assert.deepEqual(sqlParameters("SELECT ? + ?"), { positional: 2, other: [] });
    assert.deepEqual(sqlParameters("SELECT ?1, ?3, ?"), { positional: 1, other: ["?1", "?3"] });
    assert.deepEqual(sqlParameters("SELECT :a, @b, $c FROM t WHERE x=:d"), {
      positional: 0,
      other: [":a", "@b", "$c", ":d"],
    });
    const quoted = `SELECT '$.a?', ':x', "@y", [$z], json_extract(v, '$.n') -- ?1 :q
      FROM t /* @w ?2 */ WHERE a = ? AND b = 'it''s ?'`;
    assert.deepEqual(sqlParameters(quoted), { positional: 1, other: [] });
  });
});
