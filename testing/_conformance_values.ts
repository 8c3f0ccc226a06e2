/**
 * Conformance tests for values: round-trips of every SqlValue, INTEGER versus REAL binding,
 * the ±(2^53 − 1) read limit and the signed 64-bit bind limit, and rejected parameters.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { SqlValue } from "../core/db/driver.ts";
import type { Register } from "./_conformance_shared.ts";
import { assertSqlValue, count, one } from "./_conformance_shared.ts";

const TWO_POW_53_PLUS_1 = 2n ** 53n + 1n;
/** The smallest signed 64-bit integer. */
export const INT64_MIN: bigint = -(2n ** 63n);
/** The largest signed 64-bit integer. */
export const INT64_MAX: bigint = 2n ** 63n - 1n;

/** [what, bound value, value read back, SQLite's typeof()] */
export const ROUND_TRIPS: [string, SqlValue, SqlValue, string][] = [
  ["null", null, null, "null"],
  ["an integer number", 42, 42, "integer"],
  ["a real number", 3.25, 3.25, "real"],
  ["a negative integer", -7, -7, "integer"],
  ["a negative real", -0.5, -0.5, "real"],
  ["zero", 0, 0, "integer"],
  ["Number.MAX_SAFE_INTEGER", Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, "integer"],
  ["Number.MIN_SAFE_INTEGER", Number.MIN_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, "integer"],
  ["a unicode string", "héllo wörld ✓ 日本 😀", "héllo wörld ✓ 日本 😀", "text"],
  ["a string with an embedded NUL", "a\u0000b\u0000c", "a\u0000b\u0000c", "text"],
  ["the empty string", "", "", "text"],
  ["a blob", new Uint8Array([0, 1, 127, 128, 255]), new Uint8Array([0, 1, 127, 128, 255]), "blob"],
  ["an empty blob", new Uint8Array(0), new Uint8Array(0), "blob"],
  ["a bigint within range, read back as a number", 123456789012n, 123456789012, "integer"],
];

/** [what, bound number, SQLite's typeof()] */
const NUMBER_TYPES: [string, SqlValue, string][] = [
  ["5", 5, "integer"],
  ["-3", -3, "integer"],
  ["Number.MIN_SAFE_INTEGER", Number.MIN_SAFE_INTEGER, "integer"],
  ["5.5", 5.5, "real"],
  ["0.1", 0.1, "real"],
  ["5n", 5n, "integer"],
];

/** [what, a parameter the contract rejects with a TypeError] */
export const REJECTED: [string, unknown][] = [
  ["true", true],
  ["false", false],
  ["undefined", undefined],
  ["a plain object", { a: 1 }],
  ["an array", [1]],
  ["a Date", new Date(0)],
  ["a symbol", Symbol("s")],
  ["a function", () => 1],
];

function roundTripTests(test: Register): void {
  for (const [what, value, expected, type] of ROUND_TRIPS) {
    const limitation = what.includes("NUL") ? "nul-in-text" as const : undefined;
    test(`round-trips ${what} through a table`, (db) => {
      db.exec("CREATE TABLE t (v)");
      db.run("INSERT INTO t (v) VALUES (?)", [value]);
      const row = one(db, "SELECT v, typeof(v) AS type FROM t");
      assertSqlValue(row.v, expected);
      assert.equal(row.type, type);
    }, { limitation });
  }
}

function bindingTests(test: Register): void {
  test("binds integer numbers and bigints as INTEGER and other numbers as REAL", (db) => {
    for (const [what, value, type] of NUMBER_TYPES) {
      assert.equal(one(db, "SELECT typeof(?) AS type", [value]).type, type, `typeof(${what})`);
    }
  });

  test("renders an integer number in JSON without a fraction", (db) => {
    assert.equal(one(db, "SELECT json_object('n', ?) AS j", [5]).j, '{"n":5}');
    assert.equal(one(db, "SELECT json_object('n', ?) AS j", [5.5]).j, '{"n":5.5}');
  });

  // SQLite itself reads the literal 1e20 as REAL; there is no INTEGER to bind it as.
  test("binds an integer-valued number beyond the 64-bit range (1e20) as REAL", (db) => {
    const row = one(db, "SELECT ? AS v, typeof(?) AS type", [1e20, -1e20]);
    assert.equal(row.type, "real");
    assert.equal(row.v, 1e20);
  });
}

function limitTests(test: Register): void {
  test("throws a RangeError reading an integer beyond 2^53 stored from a bigint", (db) => {
    db.exec("CREATE TABLE t (v)");
    db.run("INSERT INTO t (v) VALUES (?)", [TWO_POW_53_PLUS_1]);
    assert.equal(one(db, "SELECT CAST(v AS TEXT) AS s FROM t").s, String(TWO_POW_53_PLUS_1));
    assert.throws(() => db.get("SELECT v FROM t"), RangeError);
    assert.throws(() => db.all("SELECT v FROM t"), RangeError);
  });

  test("rejects binding a bigint outside the signed 64-bit range with a RangeError", (db) => {
    db.exec("CREATE TABLE t (v)");
    assert.throws(() => db.run("INSERT INTO t (v) VALUES (?)", [2n ** 63n]), RangeError);
    assert.throws(() => db.run("INSERT INTO t (v) VALUES (?)", [INT64_MIN - 1n]), RangeError);
    assert.throws(() => db.get("SELECT ? AS v", [2n ** 64n]), RangeError);
    assert.equal(count(db, "t"), 0);
  });

  test("binds -(2^63) and 2^63 - 1 exactly but refuses to read 2^63 - 1 as a number", (db) => {
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v)");
    db.run("INSERT INTO t (id, v) VALUES (1, ?), (2, ?)", [INT64_MIN, INT64_MAX]);
    const texts = db.all("SELECT CAST(v AS TEXT) AS s FROM t ORDER BY id").map((row) => row.s);
    assert.deepEqual(texts, [String(INT64_MIN), String(INT64_MAX)]);
    assert.throws(() => db.get("SELECT v FROM t WHERE id = 2"), RangeError);
  });

  test("refuses to read -(2^63) as a number", (db) => {
    db.exec("CREATE TABLE t (v)");
    db.run("INSERT INTO t (v) VALUES (?)", [INT64_MIN]);
    assert.throws(() => db.get("SELECT v FROM t"), RangeError);
  }, { limitation: "read-min-int64" });
}

function rejectionTests(test: Register): void {
  for (const [what, value] of REJECTED) {
    test(`rejects ${what} as a parameter with a TypeError and writes nothing`, (db) => {
      db.exec("CREATE TABLE t (a, b)");
      const bad = [1, value] as SqlValue[];
      assert.throws(() => db.run("INSERT INTO t (a, b) VALUES (?, ?)", bad), TypeError);
      assert.throws(() => db.get("SELECT ? AS a, ? AS b", bad), TypeError);
      assert.throws(() => db.all("SELECT ? AS a, ? AS b", bad), TypeError);
      assert.equal(count(db, "t"), 0);
      // The statement that refused a parameter must bind afresh next time.
      db.run("INSERT INTO t (a, b) VALUES (?, ?)", [2, null]);
      assert.deepEqual({ ...one(db, "SELECT a, b FROM t") }, { a: 2, b: null });
    });
  }
}

/** Registers the value tests. */
export function valueTests(test: Register): void {
  roundTripTests(test);
  bindingTests(test);
  limitTests(test);
  rejectionTests(test);
}
