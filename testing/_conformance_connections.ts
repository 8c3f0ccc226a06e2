/**
 * Conformance tests for connections: `name` and `path`, WAL on a file, two connections to one
 * file, lock contention, transactions through `exec()` and `close()`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import type { SqliteDriver } from "../core/db/driver.ts";
import type { Register } from "./_conformance_shared.ts";
import { count, one } from "./_conformance_shared.ts";

const BUSY = /database is locked|busy/i;

function enableWal(db: SqliteDriver): void {
  assert.equal(one(db, "PRAGMA journal_mode=WAL").journal_mode, "wal");
}

function fileTests(test: Register): void {
  test("reports its name and the path it was opened with", (db, scratch) => {
    assert.equal(typeof db.name, "string");
    assert.ok(db.name.length > 0, "name is empty");
    assert.equal(db.path, scratch.path);
  });

  test("switches a file database to WAL", (db) => {
    enableWal(db);
    assert.equal(one(db, "PRAGMA journal_mode").journal_mode, "wal");
  });

  test(
    "shows each connection's commits to another connection on the same file",
    async (a, scratch) => {
      enableWal(a);
      a.exec("CREATE TABLE t (v)");
      const b = await scratch.open();
      a.run("INSERT INTO t (v) VALUES (?)", ["from a"]);
      assert.equal(one(b, "SELECT v FROM t").v, "from a");
      b.run("INSERT INTO t (v) VALUES (?)", ["from b"]);
      assert.deepEqual(a.all("SELECT v FROM t ORDER BY rowid").map((row) => row.v), [
        "from a",
        "from b",
      ]);
    },
  );

  test(
    "fails another connection's write with a busy error while BEGIN IMMEDIATE holds the lock",
    async (a, scratch) => {
      enableWal(a);
      a.exec("CREATE TABLE t (v)");
      const b = await scratch.open();
      b.exec("PRAGMA busy_timeout=50");
      a.exec("BEGIN IMMEDIATE");
      a.run("INSERT INTO t (v) VALUES (?)", [1]);
      assert.throws(() => b.run("INSERT INTO t (v) VALUES (?)", [2]), BUSY);
      assert.throws(() => b.exec("BEGIN IMMEDIATE"), BUSY);
      assert.equal(count(b, "t"), 0, "b saw an uncommitted row");
      a.exec("COMMIT");
      b.run("INSERT INTO t (v) VALUES (?)", [2]);
      assert.equal(count(a, "t"), 2);
    },
  );
}

function transactionTests(test: Register): void {
  test("commits and rolls back transactions run through exec()", async (db, scratch) => {
    db.exec("CREATE TABLE t (v)");
    db.exec("BEGIN");
    db.run("INSERT INTO t (v) VALUES (?)", [1]);
    db.exec("COMMIT");
    db.exec("BEGIN IMMEDIATE");
    db.run("INSERT INTO t (v) VALUES (?)", [2]);
    assert.equal(count(db, "t"), 2);
    db.exec("ROLLBACK");
    assert.equal(count(db, "t"), 1);
    assert.equal(count(await scratch.open(), "t"), 1);
  });

  test(
    "inTransaction() is true from BEGIN or SAVEPOINT to COMMIT, RELEASE or ROLLBACK",
    (db) => {
      db.exec("CREATE TABLE t (v)");
      assert.equal(db.inTransaction(), false);
      db.exec("BEGIN");
      assert.equal(db.inTransaction(), true);
      db.exec("COMMIT");
      assert.equal(db.inTransaction(), false);
      db.exec("SAVEPOINT s");
      db.run("INSERT INTO t (v) VALUES (?)", [1]);
      assert.equal(db.inTransaction(), true);
      db.exec("RELEASE s");
      assert.equal(db.inTransaction(), false);
      db.exec("BEGIN IMMEDIATE");
      db.exec("ROLLBACK");
      assert.equal(db.inTransaction(), false);
    },
  );

  test("keeps a transaction open after one of its statements fails", (db) => {
    db.exec("CREATE TABLE t (k UNIQUE)");
    db.exec("BEGIN IMMEDIATE");
    db.run("INSERT INTO t (k) VALUES (?)", [1]);
    assert.throws(() => db.run("INSERT INTO t (k) VALUES (?)", [1]), /UNIQUE/);
    db.run("INSERT INTO t (k) VALUES (?)", [2]);
    db.exec("COMMIT");
    assert.equal(count(db, "t"), 2);
  });
}

function closeTests(test: Register): void {
  test("close() is idempotent and every later call throws an error mentioning closed", (db) => {
    db.exec("CREATE TABLE t (v)");
    db.close();
    db.close();
    const closed = (error: unknown) => error instanceof Error && /closed/i.test(error.message);
    assert.throws(() => db.exec("SELECT 1"), closed);
    assert.throws(() => db.run("INSERT INTO t (v) VALUES (?)", [1]), closed);
    assert.throws(() => db.all("SELECT v FROM t"), closed);
    assert.throws(() => db.get("SELECT v FROM t"), closed);
  });

  test(
    "close() really closes the file, so the last connection out removes the WAL",
    (db, scratch) => {
      enableWal(db);
      db.exec("CREATE TABLE t (v); INSERT INTO t (v) VALUES (1)");
      assert.equal(one(db, "SELECT v FROM t").v, 1);
      assert.ok(existsSync(`${scratch.path}-wal`), "no -wal file while open");
      db.close();
      assert.equal(existsSync(`${scratch.path}-wal`), false, "-wal left behind: not closed");
    },
    { limitation: "close-releases-file" },
  );
}

/** Registers the connection tests. */
export function connectionTests(test: Register): void {
  fileTests(test);
  transactionTests(test);
  closeTests(test);
}
