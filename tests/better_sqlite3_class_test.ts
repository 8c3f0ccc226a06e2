// An application whose better-sqlite3 is not the copy `import("better-sqlite3")` finds (another
// version installed beside it, or a fork with its API) hands openBetterSqlite3() its `Database`
// class; the tests' better-sqlite3@12 entry opens better-sqlite3 12 this way.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import {
  type BetterSqlite3Class,
  type BetterSqlite3DatabaseLike,
  openBetterSqlite3,
} from "../adapters/better_sqlite3.ts";
import { driverMatrix } from "./_drivers.ts";
import { removeTempDirs, tempDbPath } from "./_helpers.ts";

after(removeTempDirs);

const skip = driverMatrix().find((entry) => entry.id === "better-sqlite3")?.skip;

describe("openBetterSqlite3() with a Database class of the application's", () => {
  it("opens the file with that class, the busy timeout and read-only mode", { skip }, async () => {
    const { default: Installed } = await import("better-sqlite3");
    const calls: unknown[][] = [];
    const Database = class extends Installed {
      constructor(path: string, options?: { readonly?: boolean; timeout?: number }) {
        super(path, options);
        calls.push([path, options]);
      }
    } as unknown as BetterSqlite3Class;
    const path = tempDbPath();
    const writer = await openBetterSqlite3(path, { Database, busyTimeoutMs: 1234 });
    writer.exec("CREATE TABLE t (x)");
    writer.close();
    const reader = await openBetterSqlite3(path, { Database, readOnly: true });
    assert.throws(() => reader.exec("INSERT INTO t VALUES (1)"), /readonly/);
    reader.close();
    assert.deepEqual(calls, [
      [path, { readonly: false, timeout: 1234 }],
      [path, { readonly: true, timeout: 5000 }],
    ]);
  });

  it("refuses a Database that is not a class before creating the file", async () => {
    const path = tempDbPath();
    const notAClass = "better-sqlite3" as unknown as new () => BetterSqlite3DatabaseLike;
    await assert.rejects(
      openBetterSqlite3(path, { Database: notAClass }),
      (error: Error) =>
        error instanceof TypeError &&
        error.message ===
          "Cannot open with better-sqlite3: options.Database is not a class (got string)",
    );
    assert.equal(existsSync(path), false);
  });
});
