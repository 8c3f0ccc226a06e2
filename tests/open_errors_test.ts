// Opening a file that cannot be opened (issue #15 item 9): every driver's open names the path,
// and says why when the cause is the directory.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { open, SqliteError } from "../mod.ts";
import type { DriverName } from "../mod.ts";
import { driverMatrix } from "./_drivers.ts";
import { tempDbPath } from "./_helpers.ts";

const BUILT_IN: readonly string[] = ["node-sqlite", "bun-sqlite", "deno-ffi", "bun-ffi"];

/** A check for `assert.rejects`: SQLITE_CANTOPEN naming `path` and the reason `why`. */
function cannotOpen(path: string, why: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof SqliteError, `not a SqliteError: ${error}`);
    assert.equal(error.code, "SQLITE_CANTOPEN");
    assert.ok(
      error.message.includes(`Cannot open database ${JSON.stringify(path)}`),
      error.message,
    );
    assert.match(error.message, why);
    return true;
  };
}

for (const entry of driverMatrix()) {
  const skip = entry.skip ??
    (entry.id === "db-sqlite"
      ? "the application opens the @db/sqlite Database itself; fromDbSqlite() only gets the " +
        "open handle, so no open error passes through honker-ts"
      : undefined);
  const openSkip = skip ??
    (BUILT_IN.includes(entry.id) ? undefined : `${entry.id} is not a built-in driver name`);
  describe(`${entry.id}: opening a file that cannot be opened`, () => {
    it("names the path and says that its directory does not exist", { skip }, async () => {
      const missing = join(dirname(tempDbPath()), "no-such-dir");
      const path = join(missing, "app.db");
      await assert.rejects(
        entry.open(path),
        cannotOpen(path, new RegExp(`directory ${JSON.stringify(missing)} does not exist`)),
      );
      assert.equal(existsSync(missing), false);
    });

    it("names the path and says that its parent is a file, not a directory", { skip }, async () => {
      const file = tempDbPath("plain.txt");
      writeFileSync(file, "not a directory");
      const path = join(file, "app.db");
      await assert.rejects(
        entry.open(path),
        cannotOpen(path, new RegExp(`${JSON.stringify(file)} is not a directory`)),
      );
    });

    it("open() with this driver names the path as well", { skip: openSkip }, async () => {
      const missing = join(dirname(tempDbPath()), "gone");
      const path = join(missing, "app.db");
      await assert.rejects(
        open(path, { driver: entry.id as DriverName }),
        cannotOpen(path, /does not exist/),
      );
    });
  });
}
