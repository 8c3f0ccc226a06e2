/**
 * Conformance tests for the errors SQLite reports: every adapter throws them as
 * {@linkcode SqliteError} with the result code's name, whatever shape its binding gives them,
 * so callers (and honker-ts's own retry of a busy database) never parse messages.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { SqliteDriver } from "../core/db/driver.ts";
import { isTransientSqliteError, SqliteError } from "../core/db/errors.ts";
import type { Register } from "./_conformance_shared.ts";
import { count, one } from "./_conformance_shared.ts";

/** A check for `assert.throws`: a SqliteError with this code and a message matching `message`. */
function sqliteError(code: string, message: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(
      error instanceof SqliteError,
      `expected a SqliteError, got ${(error as Error)?.constructor?.name}: ${error}`,
    );
    assert.equal(error.code, code, `code of: ${error.message}`);
    assert.equal(error.resultCode & 0xff, SQLITE_PRIMARY[code], `resultCode of: ${error.message}`);
    assert.match(error.message, message);
    return true;
  };
}

const SQLITE_PRIMARY: Record<string, number> = {
  SQLITE_ERROR: 1,
  SQLITE_BUSY: 5,
  SQLITE_CONSTRAINT: 19,
};

function enableWal(db: SqliteDriver): void {
  assert.equal(one(db, "PRAGMA journal_mode=WAL").journal_mode, "wal");
}

/** Registers the error tests. */
export function errorTests(test: Register): void {
  test(
    "reports a busy database as SqliteError SQLITE_BUSY while another connection holds " +
      "BEGIN IMMEDIATE",
    async (a, scratch) => {
      enableWal(a);
      a.exec("CREATE TABLE t (v)");
      const b = await scratch.open();
      b.exec("PRAGMA busy_timeout = 0");
      a.exec("BEGIN IMMEDIATE");
      const busy = sqliteError("SQLITE_BUSY", /database is locked/);
      assert.throws(() => b.run("INSERT INTO t (v) VALUES (?)", [1]), busy);
      assert.throws(() => b.exec("BEGIN IMMEDIATE"), busy);
      assert.throws(() => b.get("INSERT INTO t (v) VALUES (?) RETURNING v", [2]), busy);
      assert.throws(() => b.run("INSERT INTO t (v) VALUES (?)", [1]), isTransientSqliteError);
      a.exec("COMMIT");
      b.run("INSERT INTO t (v) VALUES (?)", [3]);
      assert.equal(count(a, "t"), 1, "a failed statement left b's write uncommitted");
    },
  );

  test(
    "a write that failed with SQLITE_BUSY neither holds back nor later undoes the " +
      "connection's next writes",
    async (a, scratch) => {
      enableWal(a);
      a.exec("CREATE TABLE t (v)");
      const b = await scratch.open();
      b.exec("PRAGMA busy_timeout = 0");
      const insert = "INSERT INTO t (v) VALUES (?)";
      const returning = "INSERT INTO t (v) VALUES (?) RETURNING v";
      a.exec("BEGIN IMMEDIATE");
      assert.throws(() => b.run(insert, [1]), isTransientSqliteError);
      assert.throws(() => b.all(returning, [2]), isTransientSqliteError);
      a.exec("COMMIT");
      b.run("INSERT INTO t (v) VALUES (?) -- another statement", [3]);
      assert.deepEqual(values(a), [3], "b's write after the failures is not committed");
      // Running the failed statements again must not resume them or roll back the write of 3.
      b.run(insert, [4]);
      assert.deepEqual(b.all(returning, [5]).map((row) => row.v), [5]);
      assert.deepEqual(values(a), [3, 4, 5]);
    },
  );

  test("reports a UNIQUE violation as SqliteError SQLITE_CONSTRAINT with SQLite's message", (db) => {
    db.exec("CREATE TABLE t (k TEXT UNIQUE); INSERT INTO t (k) VALUES ('a')");
    const unique = sqliteError("SQLITE_CONSTRAINT", /UNIQUE constraint failed: t\.k/);
    assert.throws(() => db.run("INSERT INTO t (k) VALUES (?)", ["a"]), unique);
    assert.throws(() => db.all("INSERT INTO t (k) VALUES (?) RETURNING k", ["a"]), unique);
    assert.throws(() => db.exec("INSERT INTO t (k) VALUES ('a')"), unique);
    assert.equal(
      isTransientSqliteError(catchError(() => db.exec("INSERT INTO t VALUES ('a')"))),
      false,
    );
  });

  test("reports an error in the SQL text as SqliteError SQLITE_ERROR with SQLite's message", (db) => {
    const missing = sqliteError("SQLITE_ERROR", /no such table: nope/);
    assert.throws(() => db.get("SELECT * FROM nope WHERE x = ?", [1]), missing);
    assert.throws(() => db.exec("SELECT * FROM nope"), missing);
    assert.throws(() => db.run("SELEC 1"), sqliteError("SQLITE_ERROR", /syntax error/));
  });

  test("keeps the TypeError and RangeError of refused parameters as they are", (db) => {
    assert.throws(
      () => db.get("SELECT ? AS v", [true as never]),
      (error) => error instanceof TypeError && !(error instanceof SqliteError),
    );
    assert.throws(
      () => db.get("SELECT ? AS v", [2n ** 64n]),
      (error) => error instanceof RangeError && !(error instanceof SqliteError),
    );
  });
}

function values(db: SqliteDriver): unknown[] {
  return db.all("SELECT v FROM t ORDER BY v").map((row) => row.v);
}

function catchError(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  assert.fail("expected an error");
}
