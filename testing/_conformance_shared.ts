/**
 * Plumbing shared by the conformance topics: how a topic registers a test, a scratch database
 * file per test whose connections are always closed, and value assertions. Private to
 * `testing/`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Row, SqliteDriver, SqlValue } from "../core/db/driver.ts";

/** Opens a connection to a database file: what the adapter under test hands the suite. */
export type OpenDriver = (path: string) => Promise<SqliteDriver> | SqliteDriver;

/** The scratch database of one test. */
export interface Scratch {
  /** The database file, in a temporary folder removed after the test. */
  readonly path: string;
  /** Opens another connection to the same file; it is closed after the test. */
  open(): Promise<SqliteDriver>;
}

/** A test body: the first connection to a fresh file, and the scratch it lives in. */
export type ScratchBody = (db: SqliteDriver, scratch: Scratch) => void | Promise<void>;

/** What a topic may ask of the runner besides a body. */
export interface TestOptions {
  /** The test registers SQL functions, so it is skipped when the adapter cannot. */
  needsFunctions?: boolean;
  /**
   * The test runs statements from inside a SQL function, so it is skipped when the connection
   * declares `reentrantFunctions: false`.
   */
  needsReentrantFunctions?: boolean;
  /** The test reads rows through `values()`, so it is skipped when the adapter has none. */
  needsValues?: boolean;
  /** The test checks a rule the adapter may declare it cannot keep (see `knownLimitations`). */
  limitation?: KnownLimitation;
}

/** Contract rules an adapter may be unable to keep because of its native binding. */
export type KnownLimitation = "nul-in-text" | "read-min-int64" | "close-releases-file";

/** Registers one conformance test; topics call it instead of `it` so skips live in one place. */
export type Register = (name: string, body: ScratchBody, options?: TestOptions) => void;

function closeAll(drivers: SqliteDriver[]): unknown {
  let first: unknown = undefined;
  for (const driver of drivers.reverse()) {
    try {
      driver.close();
    } catch (error) {
      first ??= error;
    }
  }
  return first;
}

/**
 * Runs `body` against a fresh database file, then closes every connection it opened (a second
 * `close()` on one the body already closed must be harmless) and removes the folder.
 */
export async function withScratch(open: OpenDriver, body: ScratchBody): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "honker-ts-conformance-"));
  const opened: SqliteDriver[] = [];
  const scratch: Scratch = {
    path: join(dir, "conformance.db"),
    async open() {
      const driver = await open(scratch.path);
      opened.push(driver);
      return driver;
    },
  };
  let failure: { error: unknown } | undefined;
  try {
    await body(await scratch.open(), scratch);
  } catch (error) {
    failure = { error };
  }
  const closeError = closeAll(opened);
  rmSync(dir, { recursive: true, force: true });
  if (failure !== undefined) throw failure.error;
  if (closeError !== undefined) throw closeError;
}

/** Copies a row, which may have a null prototype, into a plain object for deepEqual. */
export function plain(row: Row | undefined): Row | undefined {
  return row === undefined ? undefined : { ...row };
}

/** Reads the single row `sql` must return; fails the test when there is none. */
export function one(db: SqliteDriver, sql: string, params?: readonly SqlValue[]): Row {
  const row = db.get(sql, params);
  assert.ok(row !== undefined, `expected a row from: ${sql}`);
  return row;
}

/** Asserts a value read back equals `expected`; blobs compare by bytes, numbers strictly. */
export function assertSqlValue(actual: unknown, expected: SqlValue, message?: string): void {
  if (expected instanceof Uint8Array) {
    assert.ok(actual instanceof Uint8Array, message ?? `expected a Uint8Array, got ${actual}`);
    assert.deepEqual(Array.from(actual), Array.from(expected), message);
  } else {
    assert.equal(actual, expected, message);
  }
}

/** How many rows a table holds. */
export function count(db: SqliteDriver, table: string): number {
  return one(db, `SELECT count(*) AS n FROM ${table}`).n as number;
}
