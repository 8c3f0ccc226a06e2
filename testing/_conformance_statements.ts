/**
 * Conformance tests for statements: the statement cache, RETURNING, `changes` and
 * `lastInsertRowid`, empty results, row shape, errors and multi-statement `exec()`.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Register } from "./_conformance_shared.ts";
import { count, one, plain } from "./_conformance_shared.ts";

/** More distinct SQL texts than any sensible statement cache holds, so some are evicted. */
const DISTINCT_SQL_TEXTS = 320;

function cacheTests(test: Register): void {
  test("runs the same SQL 1000 times with the right result each time", (db) => {
    db.exec("CREATE TABLE t (v INTEGER)");
    // One transaction, so the test measures statement reuse rather than 1000 fsyncs.
    db.exec("BEGIN");
    for (let i = 0; i < 1000; i++) db.run("INSERT INTO t (v) VALUES (?)", [i]);
    db.exec("COMMIT");
    for (let i = 0; i < 1000; i++) assert.equal(one(db, "SELECT ? + 1 AS v", [i]).v, i + 1);
    assert.deepEqual(plain(db.get("SELECT count(*) AS n, sum(v) AS s FROM t")), {
      n: 1000,
      s: 499500,
    });
  });

  test(`stays correct across ${DISTINCT_SQL_TEXTS} distinct SQL texts that evict cached statements`, (db) => {
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)");
    const texts = Array.from({ length: DISTINCT_SQL_TEXTS }, (_, i) => `SELECT ? * 2 + ${i} AS v`);
    // The second round re-prepares statements the first round pushed out of the cache.
    for (const round of [1, 2]) {
      texts.forEach((sql, i) => assert.equal(one(db, sql, [round]).v, round * 2 + i, sql));
    }
    db.exec("BEGIN");
    for (let i = 0; i < DISTINCT_SQL_TEXTS; i++) {
      db.run(`INSERT INTO t (id, v) VALUES (?, ? + ${i})`, [i + 1, i]);
    }
    db.exec("COMMIT");
    assert.equal(count(db, "t"), DISTINCT_SQL_TEXTS);
    assert.equal(
      one(db, "SELECT sum(v) AS s FROM t").s,
      DISTINCT_SQL_TEXTS * (DISTINCT_SQL_TEXTS - 1),
    );
  });

  test("leaves no statement running after get() and all(), so the table can be dropped", (db) => {
    db.exec("CREATE TABLE t (v); INSERT INTO t (v) VALUES (1), (2), (3)");
    assert.equal(one(db, "SELECT v FROM t ORDER BY v").v, 1);
    assert.equal(db.all("SELECT v FROM t ORDER BY v LIMIT 2").length, 2);
    db.exec("DROP TABLE t");
  });
}

function resultTests(test: Register): void {
  test("returns RETURNING rows through all() and get()", (db) => {
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    const inserted = db.all("INSERT INTO t (v) VALUES (?), (?) RETURNING id, v", ["a", "b"]);
    assert.deepEqual(inserted.map(plain), [{ id: 1, v: "a" }, { id: 2, v: "b" }]);
    const updated = db.get("UPDATE t SET v = ? WHERE id = ? RETURNING id, v", ["z", 2]);
    assert.deepEqual(plain(updated), { id: 2, v: "z" });
    assert.equal(db.get("DELETE FROM t WHERE id = ? RETURNING id", [99]), undefined);
  });

  test("reports changes and lastInsertRowid from run()", (db) => {
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)");
    assert.deepEqual({ ...db.run("INSERT INTO t (v) VALUES (?)", [1]) }, {
      changes: 1,
      lastInsertRowid: 1,
    });
    const explicit = db.run("INSERT INTO t (id, v) VALUES (?, ?)", [1000, 2]);
    assert.equal(explicit.lastInsertRowid, 1000);
    assert.equal(db.run("INSERT INTO t (v) VALUES (?), (?)", [3, 4]).changes, 2);
    assert.equal(db.run("UPDATE t SET v = v + 1 WHERE v > ?", [1]).changes, 3);
    assert.equal(db.run("DELETE FROM t WHERE v > ?", [100]).changes, 0);
    assert.equal(db.run("DELETE FROM t").changes, 4);
  });

  test("returns undefined from get() and [] from all() when no row matches", (db) => {
    db.exec("CREATE TABLE t (v)");
    assert.equal(db.get("SELECT v FROM t"), undefined);
    assert.deepEqual(db.all("SELECT v FROM t"), []);
    assert.deepEqual(db.all("SELECT v FROM t WHERE v = ?", [1]), []);
  });

  test("keys rows by column name or alias", (db) => {
    const row = db.get("SELECT 1 AS a, 'x' AS b, NULL AS c, 1.5 AS \"with space\"");
    assert.deepEqual(plain(row), { a: 1, b: "x", c: null, "with space": 1.5 });
  });

  test("exec() runs several statements in one call", (db) => {
    db.exec(`
      CREATE TABLE a (x INTEGER);
      INSERT INTO a (x) VALUES (1);
      INSERT INTO a (x) VALUES (2); -- a trailing comment
    `);
    assert.deepEqual(db.all("SELECT x FROM a ORDER BY x").map(plain), [{ x: 1 }, { x: 2 }]);
  });
}

function errorTests(test: Register): void {
  test("throws an Error with SQLite's message for a missing table", (db) => {
    const noSuchTable = (error: unknown) =>
      error instanceof Error && /no such table: nope/.test(error.message);
    assert.throws(() => db.exec("SELECT * FROM nope"), noSuchTable);
    assert.throws(() => db.run("INSERT INTO nope VALUES (?)", [1]), noSuchTable);
    assert.throws(() => db.all("SELECT * FROM nope"), noSuchTable);
    assert.throws(() => db.get("SELECT * FROM nope WHERE x = ?", [1]), noSuchTable);
  });

  test("throws an Error with SQLite's message for a syntax error", (db) => {
    assert.throws(() => db.get("SELEC 1"), /syntax error/);
    assert.throws(() => db.exec("CREATE TABLE (x)"), /syntax error/);
  });

  test("throws on a UNIQUE violation and keeps the statement usable", (db) => {
    db.exec("CREATE TABLE t (k TEXT UNIQUE)");
    db.run("INSERT INTO t (k) VALUES (?)", ["a"]);
    assert.throws(
      () => db.run("INSERT INTO t (k) VALUES (?)", ["a"]),
      /UNIQUE constraint failed: t\.k/,
    );
    db.run("INSERT INTO t (k) VALUES (?)", ["b"]);
    assert.equal(count(db, "t"), 2);
  });
}

/** Registers the statement tests. */
export function statementTests(test: Register): void {
  cacheTests(test);
  resultTests(test);
  errorTests(test);
}
