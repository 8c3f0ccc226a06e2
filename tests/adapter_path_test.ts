// An application that hands honker-ts the connection it opened itself, without repeating the
// path: the driver takes the file from the handle where the handle knows it (node:sqlite
// `location()`, bun:sqlite `filename`, better-sqlite3 `name`), and where it cannot (libsql, a
// node:sqlite without `location()`), a TypeError asks for `{ path }` instead of honker-ts
// taking the file for an in-memory database.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { realpathSync } from "node:fs";
import { fromDriver } from "../mod.ts";
import type { SqliteDriver } from "../core/db/driver.ts";
import { UnsupportedDatabaseError } from "../core/db/errors.ts";
import { fromNodeSqlite, type NodeSqliteDatabaseLike } from "../adapters/node_sqlite.ts";
import { type BunSqliteDatabaseLike, fromBunSqlite } from "../adapters/bun_sqlite.ts";
import { fromBetterSqlite3 } from "../adapters/better_sqlite3.ts";
import { fromLibsql, type LibsqlDatabaseLike } from "../adapters/libsql.ts";
import { driverMatrix } from "./_drivers.ts";
import { removeTempDirs, tempDbPath } from "./_helpers.ts";
import { runtimeKey } from "./_runtime.ts";

after(removeTempDirs);

const skipOf = (id: string): string | undefined =>
  driverMatrix().find((entry) => entry.id === id)?.skip;

/** A handle class of an npm package, loaded only when its tests run. */
async function load<T>(name: string): Promise<new (path: string) => T> {
  const mod = await import(name) as { default?: new (path: string) => T };
  return mod.default ?? mod as unknown as new (path: string) => T;
}

/**
 * Enqueues through honker-ts on the application's own connection, without `{ path }`, and
 * checks that the job is in the application's file.
 */
function roundTrip(driver: SqliteDriver, path: string): void {
  const db = fromDriver(driver);
  try {
    assert.equal(realpathSync(driver.path), realpathSync(path));
    const id = db.queue("emails").enqueue({ to: "a@example.com" });
    const row = driver.get("SELECT id FROM _honker_live WHERE queue = ?", ["emails"]);
    assert.equal(row?.id, id);
  } finally {
    db.close();
  }
}

/** The TypeError for a handle that cannot say which file it opened. */
function asksForPath(adapter: string): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof TypeError, `not a TypeError: ${error}`);
    assert.match(
      error.message,
      new RegExp(`^Cannot wrap the ${adapter} handle: .*pass \\{ path \\}`),
    );
    return true;
  };
}

describe("the path of a handle the application opened", () => {
  it("fromNodeSqlite(handle) without { path } serves the file the handle opened", async () => {
    const { DatabaseSync } = await import("node:sqlite");
    const path = tempDbPath();
    const handle = new DatabaseSync(path);
    try {
      roundTrip(fromNodeSqlite(handle as NodeSqliteDatabaseLike, { ownsHandle: false }), path);
    } finally {
      handle.close();
    }
  });

  it("fromNodeSqlite() of an in-memory handle is refused as in-memory", async () => {
    const { DatabaseSync } = await import("node:sqlite");
    const handle = new DatabaseSync(":memory:");
    try {
      assert.throws(
        () => fromDriver(fromNodeSqlite(handle as NodeSqliteDatabaseLike)),
        UnsupportedDatabaseError,
      );
    } finally {
      handle.close();
    }
  });

  it("fromNodeSqlite() of a handle without location() asks for { path } instead of calling the file in-memory", async () => {
    const { DatabaseSync } = await import("node:sqlite");
    const handle = new DatabaseSync(tempDbPath());
    // node:sqlite before location(): the same handle without that method.
    const older: NodeSqliteDatabaseLike = {
      prepare: (sql) => handle.prepare(sql) as ReturnType<NodeSqliteDatabaseLike["prepare"]>,
      exec: (sql) => handle.exec(sql),
      close: () => handle.close(),
    };
    try {
      assert.throws(() => fromNodeSqlite(older), asksForPath("node:sqlite"));
    } finally {
      handle.close();
    }
  });

  it("fromBunSqlite(handle) without { path } serves the file the handle opened", {
    skip: runtimeKey() === "bun" ? undefined : "bun:sqlite needs Bun",
  }, async () => {
    const { Database } = await import("bun:sqlite" as string) as {
      Database: new (path: string) => BunSqliteDatabaseLike;
    };
    const path = tempDbPath();
    const handle = new Database(path);
    try {
      roundTrip(fromBunSqlite(handle, { ownsHandle: false }), path);
    } finally {
      handle.close();
    }
  });

  it("fromBetterSqlite3(handle) without { path } serves the file the handle opened", {
    skip: skipOf("better-sqlite3"),
  }, async () => {
    const Database = await load<Parameters<typeof fromBetterSqlite3>[0]>("better-sqlite3");
    const path = tempDbPath();
    const handle = new Database(path);
    try {
      roundTrip(fromBetterSqlite3(handle, { ownsHandle: false }), path);
    } finally {
      handle.close();
    }
  });

  it("fromLibsql(handle) without { path } asks for it, and serves the file with it", {
    skip: skipOf("libsql"),
  }, async () => {
    const Database = await load<LibsqlDatabaseLike>("libsql");
    const path = tempDbPath();
    const handle = new Database(path);
    try {
      assert.throws(() => fromLibsql(handle), asksForPath("libsql"));
      roundTrip(fromLibsql(handle, { path, ownsHandle: false }), path);
    } finally {
      handle.close();
    }
  });
});
