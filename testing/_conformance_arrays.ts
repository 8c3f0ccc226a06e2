/**
 * Conformance tests for `values()`, the optional read of rows as arrays: the same value rules
 * as `all()` (round-trips, the ±(2^53 − 1) read limit, parameter checks), column order, empty
 * results, the statement cache shared with `all()`, errors and `close()`.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { SqliteDriver, SqlValue } from "../core/db/driver.ts";
import type { Register } from "./_conformance_shared.ts";
import { assertSqlValue, count } from "./_conformance_shared.ts";
import { INT64_MAX, INT64_MIN, REJECTED, ROUND_TRIPS } from "./_conformance_values.ts";

/** More distinct SQL texts than any sensible statement cache holds, so some are evicted. */
const DISTINCT_SQL_TEXTS = 320;

/** Calls `values()`, failing the test with a clear message when the adapter has none. */
function values(db: SqliteDriver, sql: string, params?: readonly SqlValue[]): SqlValue[][] {
  assert.equal(typeof db.values, "function", `${db.name} has no values()`);
  const rows = db.values!(sql, params);
  assert.ok(Array.isArray(rows), `values() returned ${typeof rows}, not an array`);
  for (const row of rows) assert.ok(Array.isArray(row), "values() returned a row that is no array");
  return rows;
}

function valueRuleTests(test: Register, needsValues: true): void {
  for (const [what, value, expected, type] of ROUND_TRIPS) {
    const limitation = what.includes("NUL") ? "nul-in-text" as const : undefined;
    test(`values() round-trips ${what} through a table`, (db) => {
      db.exec("CREATE TABLE t (v)");
      db.run("INSERT INTO t (v) VALUES (?)", [value]);
      const rows = values(db, "SELECT v, typeof(v) FROM t");
      assert.equal(rows.length, 1);
      assert.equal(rows[0].length, 2);
      assertSqlValue(rows[0][0], expected);
      assert.equal(rows[0][1], type);
    }, { needsValues, limitation });
  }

  test("values() returns a blob that stays intact after later statements", (db) => {
    db.exec("CREATE TABLE t (v BLOB)");
    db.run("INSERT INTO t (v) VALUES (?)", [new Uint8Array([1, 2, 3, 4])]);
    const [[blob]] = values(db, "SELECT v FROM t");
    db.run("UPDATE t SET v = ?", [new Uint8Array([9, 9, 9, 9])]);
    values(db, "SELECT v FROM t");
    assertSqlValue(blob, new Uint8Array([1, 2, 3, 4]));
  }, { needsValues });

  test("values() throws a RangeError reading an integer beyond ±(2^53 - 1)", (db) => {
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v)");
    db.run("INSERT INTO t (id, v) VALUES (1, ?), (2, ?), (3, ?)", [
      2n ** 53n + 1n,
      -(2n ** 53n) - 1n,
      INT64_MAX,
    ]);
    for (const id of [1, 2, 3]) {
      assert.throws(() => values(db, "SELECT v FROM t WHERE id = ?", [id]), RangeError, `id ${id}`);
    }
    assert.throws(() => values(db, "SELECT id, v FROM t ORDER BY id"), RangeError);
    assert.deepEqual(values(db, "SELECT ?, ?", [Number.MAX_SAFE_INTEGER, 2n ** 40n]), [
      [Number.MAX_SAFE_INTEGER, 2 ** 40],
    ]);
  }, { needsValues });

  test("values() refuses to read -(2^63) as a number", (db) => {
    db.exec("CREATE TABLE t (v)");
    db.run("INSERT INTO t (v) VALUES (?)", [INT64_MIN]);
    assert.throws(() => values(db, "SELECT v FROM t"), RangeError);
  }, { needsValues, limitation: "read-min-int64" });

  test("values() binds integer numbers as INTEGER and other numbers as REAL", (db) => {
    assert.deepEqual(values(db, "SELECT typeof(?), typeof(?), typeof(?)", [5, 5.5, 5n]), [
      ["integer", "real", "integer"],
    ]);
  }, { needsValues });

  test("values() rejects bad parameters before running and binds afresh next time", (db) => {
    db.exec("CREATE TABLE t (a, b)");
    for (const [what, value] of REJECTED) {
      const bad = [1, value] as SqlValue[];
      assert.throws(() => values(db, "SELECT ? AS a, ? AS b", bad), TypeError, what);
      assert.throws(
        () => values(db, "INSERT INTO t (a, b) VALUES (?, ?) RETURNING a", bad),
        TypeError,
        what,
      );
    }
    assert.throws(() => values(db, "SELECT ?", [2n ** 63n]), RangeError);
    assert.throws(() => values(db, "SELECT ?", 1 as unknown as SqlValue[]), TypeError);
    assert.equal(count(db, "t"), 0);
    assert.deepEqual(values(db, "SELECT ? AS a, ? AS b", [2, null]), [[2, null]]);
  }, { needsValues });
}

function shapeTests(test: Register, needsValues: true): void {
  test("values() returns columns in SELECT order, duplicate names included", (db) => {
    const rows = values(
      db,
      "SELECT 1 AS a, 'x' AS b, NULL AS c, 1.5 AS a, x'ff' AS \"with space\"",
    );
    assert.equal(rows.length, 1);
    assert.deepEqual(rows[0].slice(0, 4), [1, "x", null, 1.5]);
    assertSqlValue(rows[0][4], new Uint8Array([255]));
  }, { needsValues });

  test("values() returns the rows all() returns, in the same order", (db) => {
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT, v REAL)");
    for (let i = 1; i <= 50; i++) db.run("INSERT INTO t (k, v) VALUES (?, ?)", [`k${i}`, i / 4]);
    const sql = "SELECT id, k, v FROM t WHERE id > ? ORDER BY id DESC LIMIT ?";
    const objects = db.all(sql, [10, 25]).map((row) => [row.id, row.k, row.v]);
    assert.equal(objects.length, 25);
    assert.deepEqual(values(db, sql, [10, 25]), objects);
  }, { needsValues });

  test("values() returns [] when no row matches", (db) => {
    db.exec("CREATE TABLE t (v)");
    assert.deepEqual(values(db, "SELECT v FROM t"), []);
    assert.deepEqual(values(db, "SELECT v FROM t WHERE v = ?", [1]), []);
  }, { needsValues });

  test("values() returns RETURNING rows", (db) => {
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    const rows = values(db, "INSERT INTO t (v) VALUES (?), (?) RETURNING id, v", ["a", "b"]);
    assert.deepEqual(rows, [[1, "a"], [2, "b"]]);
    assert.equal(count(db, "t"), 2);
  }, { needsValues });
}

function cacheTests(test: Register, needsValues: true): void {
  test("values() and all() on the same SQL each keep their own row shape", (db) => {
    const sql = "SELECT ? AS n, 'x' AS s";
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(values(db, sql, [i]), [[i, "x"]]);
      assert.deepEqual({ ...db.all(sql, [i])[0] }, { n: i, s: "x" });
      assert.deepEqual({ ...db.get(sql, [i]) }, { n: i, s: "x" });
    }
  }, { needsValues });

  test("values() runs the same SQL 1000 times with the right result each time", (db) => {
    for (let i = 0; i < 1000; i++) assert.deepEqual(values(db, "SELECT ? + 1", [i]), [[i + 1]]);
  }, { needsValues });

  test(
    `values() stays correct across ${DISTINCT_SQL_TEXTS} distinct SQL texts that evict cached statements`,
    (db) => {
      const texts = Array.from({ length: DISTINCT_SQL_TEXTS }, (_, i) => `SELECT ? * 2 + ${i}`);
      for (const round of [1, 2]) {
        texts.forEach((sql, i) =>
          assert.deepEqual(values(db, sql, [round]), [[round * 2 + i]], sql)
        );
      }
    },
    { needsValues },
  );

  test("values() leaves no statement running, so the table can be dropped", (db) => {
    db.exec("CREATE TABLE t (v); INSERT INTO t (v) VALUES (1), (2), (3)");
    assert.equal(values(db, "SELECT v FROM t ORDER BY v LIMIT 2").length, 2);
    db.exec("DROP TABLE t");
  }, { needsValues });
}

function failureTests(test: Register, needsValues: true): void {
  test("values() throws an Error with SQLite's message", (db) => {
    assert.throws(() => values(db, "SELECT * FROM nope"), /no such table: nope/);
    assert.throws(() => values(db, "SELEC 1"), /syntax error/);
    assert.deepEqual(values(db, "SELECT 1"), [[1]]);
  }, { needsValues });

  test("values() throws an error mentioning closed after close()", (db) => {
    db.exec("CREATE TABLE t (v)");
    const read = db.values;
    db.close();
    assert.equal(typeof read, "function", `${db.name} has no values()`);
    assert.throws(() => read!.call(db, "SELECT v FROM t"), /closed/i);
    assert.throws(() => db.values!("SELECT v FROM t"), /closed/i);
  }, { needsValues });
}

/** Registers the `values()` tests; they are skipped when the adapter does not implement it. */
export function arrayTests(test: Register): void {
  valueRuleTests(test, true);
  shapeTests(test, true);
  cacheTests(test, true);
  failureTests(test, true);
}
