// Smoke test of the FFI-backed adapters (Deno FFI, bun:ffi, and @db/sqlite through the test shim).
// The full contract is checked by testing/driver_conformance.ts; this is the quick look.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { SqliteDriver } from "../core/db/driver.ts";
import { open } from "../mod.ts";
import { runtimeKey } from "./_runtime.ts";
import { type DriverEntry, driverMatrix } from "./_drivers.ts";
import { plain, removeTempDirs, tempDbPath } from "./_helpers.ts";

after(removeTempDirs);

/** Runs `body` on a fresh driver over a new temporary file, closing it afterwards. */
function withDriver(entry: DriverEntry, body: (driver: SqliteDriver) => void) {
  return async () => {
    const driver = await entry.open(tempDbPath());
    try {
      body(driver);
    } finally {
      driver.close();
    }
  };
}

const ffiEntries = driverMatrix().filter((e) =>
  e.id === "deno-ffi" || e.id === "bun-ffi" || e.id === "db-sqlite"
);

for (const entry of ffiEntries) {
  const skip = entry.skip ?? false;
  describe(`${entry.id}: smoke`, () => {
    it(
      "round-trips null, integer, real, text, bigint and blob values",
      { skip },
      withDriver(entry, (d) => {
        d.exec("CREATE TABLE v (x); CREATE TABLE w (y)");
        const values = [
          null,
          42,
          -7,
          2 ** 40 + 3,
          1.5,
          "",
          "héllo ✓",
          new Uint8Array(0),
          new Uint8Array([0, 1, 255]),
        ];
        for (const value of values) d.run("INSERT INTO v (x) VALUES (?)", [value]);
        assert.deepEqual(d.all("SELECT x FROM v ORDER BY rowid").map((r) => r.x), values);
        d.run("INSERT INTO w (y) VALUES (?)", [2n ** 52n]);
        assert.deepEqual(plain(d.get("SELECT y, typeof(y) AS t FROM w")), {
          y: 2 ** 52,
          t: "integer",
        });
        if (entry.id !== "db-sqlite") {
          // @db/sqlite reads text up to the first NUL, so only our own binding can round-trip it.
          assert.equal(d.get<{ s: string }>("SELECT ? AS s", ["a\0b"])?.s, "a\0b");
        }
      }),
    );

    it(
      "binds integer numbers as INTEGER and others as REAL",
      { skip },
      withDriver(entry, (d) => {
        assert.deepEqual(plain(d.get("SELECT typeof(?) AS i, typeof(?) AS r", [5, 5.5])), {
          i: "integer",
          r: "real",
        });
        assert.deepEqual(plain(d.get("SELECT json_object('n', ?) AS j", [5])), { j: '{"n":5}' });
      }),
    );

    it(
      "calls a registered function from a trigger",
      { skip },
      withDriver(entry, (d) => {
        d.function?.("twice", (x) => (x as number) * 2, { deterministic: true });
        d.exec(`
        CREATE TABLE t (a INTEGER);
        CREATE TABLE log (x);
        CREATE TRIGGER t_log AFTER INSERT ON t BEGIN INSERT INTO log (x) VALUES (twice(new.a)); END;
      `);
        const result = d.run("INSERT INTO t (a) VALUES (?)", [21]);
        assert.deepEqual(result, { changes: 1, lastInsertRowid: 1 });
        assert.deepEqual(d.all("SELECT x, typeof(x) AS t FROM log").map(plain), [{
          x: 42,
          t: "integer",
        }]);
      }),
    );

    it(
      "throws SQLite's message for bad SQL",
      { skip },
      withDriver(entry, (d) => {
        assert.throws(() => d.all("SELECT * FROM missing_table"), /no such table: missing_table/);
        assert.throws(() => d.exec("CREATE TABLE"), /syntax error|incomplete input/);
      }),
    );

    it(
      "rejects integers beyond 2^53 - 1 and booleans instead of losing them",
      { skip },
      withDriver(entry, (d) => {
        assert.equal(d.get<{ v: number }>("SELECT ? AS v", [2 ** 53 - 1])?.v, 2 ** 53 - 1);
        assert.throws(() => d.get("SELECT ? AS v", [2n ** 53n + 1n]), RangeError);
        assert.throws(() => d.get("SELECT 9007199254740993 AS v"), RangeError);
        assert.throws(() => d.run("SELECT ?", [true as unknown as number]), TypeError);
      }),
    );

    it("close() is idempotent and every later call throws", { skip }, async () => {
      const d = await entry.open(tempDbPath());
      d.exec("CREATE TABLE t (x)");
      d.close();
      d.close();
      assert.throws(() => d.get("SELECT 1"), /closed/);
      assert.throws(() => d.run("INSERT INTO t VALUES (1)"), /closed/);
      assert.throws(() => d.exec("SELECT 1"), /closed/);
    });
  });
}

describe("FFI adapters outside their runtime, and their library", () => {
  it("each FFI adapter refuses to open on the other runtimes, naming the runtime it needs", async () => {
    const { openDenoFfi } = await import("../adapters/deno_ffi.ts");
    const { openBunFfi } = await import("../adapters/bun_ffi.ts");
    if (runtimeKey() !== "deno") {
      await assert.rejects(openDenoFfi(tempDbPath()), /Deno FFI is only available on Deno/);
    }
    if (runtimeKey() !== "bun") {
      await assert.rejects(openBunFfi(tempDbPath()), /bun:ffi is only available on Bun/);
    }
  });

  it(
    "bun-ffi: loads the system libsqlite3, refuses a missing library by its path, and backs open()",
    {
      skip: runtimeKey() === "bun" ? false : "bun:ffi needs Bun",
    },
    async () => {
      const { openBunFfi, sqliteVersion } = await import("../adapters/bun_ffi.ts");
      assert.match(sqliteVersion(), /^3\.\d+\.\d+$/);
      await assert.rejects(
        openBunFfi(tempDbPath(), { libraryPath: "/nonexistent/libsqlite3.so.0" }),
        /no libsqlite3 could be opened; tried \/nonexistent\/libsqlite3\.so\.0/,
      );
      const db = await open(tempDbPath(), { driver: "bun-ffi" });
      try {
        assert.equal(db.driver.name, "bun-ffi");
        const jobs = db.queue<{ n: number }>("q");
        jobs.enqueue({ n: 1 });
        const job = jobs.claimOne("w");
        assert.deepEqual(job?.payload, { n: 1 });
        assert.equal(job?.ack(), true);
      } finally {
        db.close();
      }
    },
  );
});
