/**
 * Conformance tests for `function()`: scalar SQL functions called from SQL and from triggers,
 * argument and result types, errors, varargs, fixed arity, determinism, and a function that runs
 * the very SQL whose statement is still executing.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { SqlFunction, SqlFunctionOptions, SqliteDriver, SqlValue } from "../core/db/driver.ts";
import type { Register } from "./_conformance_shared.ts";
import { assertSqlValue, one } from "./_conformance_shared.ts";

/** [what, argument bound, argument the function receives] */
const ARGUMENTS: [string, SqlValue, SqlValue][] = [
  ["null", null, null],
  ["an integer", 42, 42],
  ["a negative real", -2.5, -2.5],
  ["a string", "héllo ✓", "héllo ✓"],
  ["the empty string", "", ""],
  ["a blob", new Uint8Array([1, 2, 255]), new Uint8Array([1, 2, 255])],
  ["a bigint", 7n, 7],
];

/** [what, value returned by the function, SQLite's typeof() of the result] */
const RESULTS: [string, SqlValue, string][] = [
  ["an integer number", 5, "integer"],
  ["a real number", 5.5, "real"],
  ["a bigint", 2n ** 40n, "integer"],
  ["a string", "x", "text"],
  ["null", null, "null"],
  ["a blob", new Uint8Array([9]), "blob"],
];

function register(
  db: SqliteDriver,
  name: string,
  fn: SqlFunction,
  options: SqlFunctionOptions = {},
): void {
  assert.equal(typeof db.function, "function", `${db.name} has no function()`);
  db.function!(name, fn, options);
}

function callTests(test: Register, needsFunctions: true): void {
  test("calls a registered function from SQL", (db) => {
    register(db, "twice", (x) => (x as number) * 2);
    assert.equal(one(db, "SELECT twice(?) AS v", [21]).v, 42);
  }, { needsFunctions });

  test("passes arguments of each type to a function", (db) => {
    const seen: SqlValue[] = [];
    register(db, "capture", (x) => {
      seen.push(x);
      return null;
    });
    for (const [, value] of ARGUMENTS) db.get("SELECT capture(?) AS v", [value]);
    ARGUMENTS.forEach(([what, , expected], i) => assertSqlValue(seen[i], expected, what));
  }, { needsFunctions });

  test("returns integer results as INTEGER and other results with their own type", (db) => {
    register(db, "pick", (i) => RESULTS[i as number][1]);
    RESULTS.forEach(([what, value, type], i) => {
      const row = one(db, "SELECT pick(?) AS v, typeof(pick(?)) AS type", [i, i]);
      assertSqlValue(row.v, value === 2n ** 40n ? 2 ** 40 : value, what);
      assert.equal(row.type, type, what);
    });
    assert.equal(one(db, "SELECT json_object('n', pick(0)) AS j").j, '{"n":5}');
  }, { needsFunctions });

  test("surfaces an exception thrown by a function as an error carrying its message", (db) => {
    register(db, "boom", () => {
      throw new Error("kaboom from conformance");
    });
    assert.throws(() => db.get("SELECT boom() AS v"), /kaboom from conformance/);
    assert.equal(one(db, "SELECT 1 AS v").v, 1);
  }, { needsFunctions });
}

function optionTests(test: Register, needsFunctions: true): void {
  test("calls a varargs function with any number of arguments", (db) => {
    register(db, "nargs", (...args) => args.length, { varargs: true });
    assert.equal(one(db, "SELECT nargs() AS v").v, 0);
    assert.equal(one(db, "SELECT nargs(1, 'a', NULL, x'00') AS v").v, 4);
  }, { needsFunctions });

  test("fixes the arity of a function without varargs from fn.length", (db) => {
    register(db, "sum2", (a, b) => (a as number) + (b as number));
    assert.equal(one(db, "SELECT sum2(2, 3) AS v").v, 5);
    assert.throws(() => db.get("SELECT sum2(1) AS v"), /wrong number of arguments/);
  }, { needsFunctions });

  test("marks a deterministic function so that an index expression may use it", (db) => {
    db.exec("CREATE TABLE t (v TEXT)");
    register(db, "fold", (s) => String(s).toLowerCase(), { deterministic: true });
    register(db, "fold_any", (s) => String(s).toLowerCase());
    db.exec("CREATE INDEX t_fold ON t (fold(v))");
    assert.throws(() => db.exec("CREATE INDEX t_fold_any ON t (fold_any(v))"), /non-deterministic/);
  }, { needsFunctions });

  test("calls a function from a trigger", (db) => {
    const calls: SqlValue[] = [];
    register(db, "record", (x) => {
      calls.push(x);
      return null;
    });
    db.exec(`
      CREATE TABLE t (x);
      CREATE TRIGGER t_insert AFTER INSERT ON t BEGIN SELECT record(NEW.x); END;
    `);
    for (const x of [1, "two", 3.5]) db.run("INSERT INTO t (x) VALUES (?)", [x]);
    assert.deepEqual(calls, [1, "two", 3.5]);
  }, { needsFunctions });
}

const DESCEND = "INSERT INTO t (depth, note) VALUES (?, descend(?))";
const PEEK = "SELECT id, peek(id) AS seen FROM t ORDER BY id";

function reentryTests(test: Register): void {
  const needs = { needsFunctions: true, needsReentrantFunctions: true };
  test("runs the same write again from inside a function while it is still executing", (db) => {
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, depth INTEGER, note TEXT)");
    register(db, "descend", (depth) => {
      if ((depth as number) >= 2) return "leaf";
      const { lastInsertRowid } = db.run(DESCEND, [(depth as number) + 1, (depth as number) + 1]);
      return `inner wrote ${lastInsertRowid}`;
    });
    const outer = db.run(DESCEND, [0, 0]);
    assert.equal(outer.lastInsertRowid, 3, "lastInsertRowid is not the outer statement's row");
    assert.deepEqual(
      db.all("SELECT id, depth, note FROM t ORDER BY id").map((row) => ({ ...row })),
      [
        { id: 1, depth: 2, note: "leaf" },
        { id: 2, depth: 1, note: "inner wrote 1" },
        { id: 3, depth: 0, note: "inner wrote 2" },
      ],
    );
    assert.equal(db.run(DESCEND, [5, 5]).lastInsertRowid, 4, "the cached statement is unusable");
  }, needs);

  test("runs the same query again from inside a function while it is still stepping", (db) => {
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1), (2), (3)");
    let nested = false;
    register(db, "peek", (_id) => {
      if (nested) return -1;
      nested = true;
      try {
        return db.all(PEEK).length + (db.get(PEEK)?.seen as number);
      } finally {
        nested = false;
      }
    });
    assert.deepEqual(db.all(PEEK).map((row) => ({ ...row })), [
      { id: 1, seen: 2 },
      { id: 2, seen: 2 },
      { id: 3, seen: 2 },
    ]);
    assert.deepEqual({ ...db.get(PEEK) }, { id: 1, seen: 2 });
  }, needs);
}

/** Registers the SQL function tests; they are skipped when the adapter cannot register functions. */
export function functionTests(test: Register): void {
  callTests(test, true);
  optionTests(test, true);
  reentryTests(test);
}
