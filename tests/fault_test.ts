// Fault injection (spec §8, honker's tests/test_fault_injection.py and more): corrupt files,
// read-only files and directories, a missing directory, a full disk, a database locked by
// another process, a SQLite too old or without JSON, and every public function misused. Each
// fault is real (real files, a real tmpfs, a real second process); one that cannot be set up
// here is skipped with the reason.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Database, DatabaseClosedError, open, UnsupportedDatabaseError } from "../mod.ts";
import type { DriverName, Transaction } from "../mod.ts";
import { runtimeKey } from "../adapters/auto.ts";
import { driverMatrix } from "./_drivers.ts";
import type { DriverEntry } from "./_drivers.ts";
import { tempDbPath } from "./_helpers.ts";
import {
  cShimToolchain,
  fileHash,
  honkerRowsHash,
  makeReadOnly,
  mountTmpfs,
} from "./_fault_env.ts";
import { closedCases, misuseCases, oversizedCases } from "./_misuse_cases.ts";
import type { ErrorClass, MisuseCase, MisuseFixture } from "./_misuse_cases.ts";
import { LineReader, runScript, spawnScript } from "./_spawn.ts";

const PEER = fileURLToPath(new URL("./fixtures/fault_peer.ts", import.meta.url));
const SHIM_SOURCE = fileURLToPath(new URL("./fixtures/fault_sqlite_shim.c", import.meta.url));
const SLOW = { timeout: 90_000 };
/** A failure that waited for a lock would take busy_timeout (5 s); this bound rules that out. */
const NO_HANG_MS = 4_500;
const FIRST_AVAILABLE = driverMatrix().find((entry) => !entry.skip)?.id;

/** The name `open()` knows the entry's adapter by; undefined when it has none. */
function builtInName(entry: DriverEntry): DriverName | undefined {
  return entry.id === "db-sqlite" || entry.id === "better-sqlite3@12" ? undefined : entry.id;
}

/** Opens with the entry's adapter through `open()` (a driver object when it has no name). */
async function openEntry(entry: DriverEntry, path: string): Promise<Database> {
  const options = { wake: "poll", pollIntervalMs: 100 } as const;
  const name = builtInName(entry);
  if (name !== undefined) return await open(path, { ...options, driver: name });
  const driver = await entry.open(path);
  try {
    return await open(path, { ...options, driver });
  } catch (error) {
    driver.close();
    throw error;
  }
}

function closeEntry(entry: DriverEntry, db: Database): void {
  db.close();
  if (builtInName(entry) === undefined) db.driver.close();
}

/** A closed, checkpointed honker file with a few jobs, events and notifications. */
async function seededFile(entry: DriverEntry, path = tempDbPath()): Promise<string> {
  // Built on the bare constructor, without a change watcher: this is the file's only connection,
  // so closing it checkpoints and removes the -wal and -shm files at once.
  const db = new Database(await entry.open(path), { ownsDriver: true });
  for (let i = 0; i < 50; i++) db.queue("q").enqueue({ i, text: "x".repeat(200) });
  db.stream("t").publish({ e: 1 });
  db.notify("c", { n: 1 });
  db.close();
  await connectionsClosed(path);
  return path;
}

/**
 * Waits until every connection to `path` has closed: the last one to go (maybe the poll
 * watcher's, a moment after close() in its own thread) checkpoints and removes the -wal and -shm
 * files. Faults are then set up on a lone database file, and a tmpfs can be unmounted.
 */
async function connectionsClosed(path: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (existsSync(`${path}-wal`) || existsSync(`${path}-shm`)) {
    assert.ok(Date.now() < deadline, "the -wal and -shm files outlived every connection");
    collectGarbage();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Runs a full garbage collection where the runtime offers one: libsql closes its file only once
 * the closed connection's statements are collected (its "close-releases-file" limitation).
 */
function collectGarbage(): void {
  const g = globalThis as { Bun?: { gc(force: boolean): void }; gc?: () => void };
  g.Bun?.gc(true);
  (g.gc ?? nodeGc)?.();
}

/**
 * Node's collector, which Node exposes only under --expose-gc: the flag set at run time makes
 * `gc` a global of contexts created afterwards. Without it a quiet test could wait past its
 * deadline for a collection that frees libsql's file.
 */
const nodeGc: (() => void) | undefined = runtimeKey() === "node"
  ? (() => {
    setFlagsFromString("--expose-gc");
    return runInNewContext("gc") as () => void;
  })()
  : undefined;

/** Runs `action` expecting it to throw `pattern` quickly; returns the error. */
async function failsQuickly(action: () => Promise<unknown>, pattern: RegExp): Promise<Error> {
  const started = Date.now();
  let caught: unknown;
  try {
    await action();
  } catch (error) {
    caught = error;
  }
  const elapsed = Date.now() - started;
  assert.ok(caught instanceof Error, `expected an error matching ${pattern}, got none`);
  assert.match(caught.message, pattern);
  assert.ok(elapsed < NO_HANG_MS, `failing took ${elapsed} ms`);
  return caught;
}

/** open() and then a claim and an enqueue: the first use of a database. */
async function openAndUse(entry: DriverEntry, path: string): Promise<void> {
  const db = await openEntry(entry, path);
  try {
    db.queue("q").claimBatch("w", 100);
    db.queue("q").enqueue({ after: true });
  } finally {
    closeEntry(entry, db);
  }
}

function pageOf(path: string, table: string, entry: DriverEntry): Promise<number> {
  return entry.open(path).then((driver) => {
    try {
      return Number(
        driver.get<{ p: number }>("SELECT rootpage AS p FROM sqlite_schema WHERE name = ?", [
          table,
        ])?.p,
      );
    } finally {
      driver.close();
    }
  });
}

/**
 * Skips the running test with `reason`. Deno's node:test reports such a test as "ok" without
 * the reason, so it is printed too.
 */
function skipWith(t: { skip(message?: string): void }, reason: string): void {
  console.log(`skipped: ${reason}`);
  t.skip(reason);
}

/** Overwrites bytes [from, to) of the file with random bytes. */
function scribble(path: string, from: number, to: number): void {
  const fd = openSync(path, "r+");
  try {
    writeSync(fd, randomBytes(to - from), 0, to - from, from);
  } finally {
    closeSync(fd);
  }
}

for (const entry of driverMatrix()) {
  describe(`corrupt and unusable files (${entry.id})`, { skip: entry.skip }, () => {
    it("a file of random bytes: open() throws 'file is not a database' at once, file unchanged", async () => {
      const path = tempDbPath();
      writeFileSync(path, randomBytes(64 * 1024));
      const hash = fileHash(path);
      await failsQuickly(() => openEntry(entry, path), /file is not a database/);
      assert.equal(fileHash(path), hash);
    });

    it("a valid file with its first page overwritten: open() throws 'malformed', file unchanged", async () => {
      const path = await seededFile(entry);
      const pageSize = readFileSync(path).readUInt16BE(16);
      scribble(path, 100, pageSize); // keep the 100-byte header, ruin the schema b-tree
      const hash = fileHash(path);
      await failsQuickly(() => openAndUse(entry, path), /database disk image is malformed/);
      assert.equal(fileHash(path), hash);
    });

    it("a valid file with the job table's root page overwritten: the first use throws 'malformed', file unchanged", async () => {
      const path = await seededFile(entry);
      const pageSize = readFileSync(path).readUInt16BE(16);
      const page = await pageOf(path, "_honker_live", entry);
      assert.ok(page > 1);
      scribble(path, (page - 1) * pageSize, page * pageSize);
      const hash = fileHash(path);
      await failsQuickly(() => openAndUse(entry, path), /database disk image is malformed/);
      assert.equal(fileHash(path), hash);
    });

    it("a missing parent directory: open() throws 'unable to open' and creates nothing", async () => {
      const parent = join(dirname(tempDbPath()), "missing", "deeper");
      await failsQuickly(
        () => openEntry(entry, join(parent, "test.db")),
        /unable to open database file/,
      );
      assert.equal(existsSync(dirname(parent)), false);
    });

    it("a read-only database file: the first write throws 'readonly', file unchanged", async (t) => {
      const path = await seededFile(entry);
      const fault = makeReadOnly(path, "file");
      if (typeof fault === "string") return skipWith(t, fault);
      try {
        const hash = fileHash(path);
        await failsQuickly(
          () => openAndUse(entry, path),
          /attempt to write a readonly database/,
        );
        assert.equal(fileHash(path), hash, `made read-only by ${fault.how}`);
      } finally {
        fault.undo();
      }
    });

    it("a read-only directory: open() throws 'unable to open', files unchanged", async (t) => {
      const path = await seededFile(entry);
      const dir = dirname(path);
      const fault = makeReadOnly(dir, "dir");
      if (typeof fault === "string") return skipWith(t, fault);
      try {
        const hash = fileHash(path);
        // An existing database cannot get its -wal and -shm files; a new one cannot be created.
        await failsQuickly(() => openAndUse(entry, path), /unable to open database file/);
        await failsQuickly(
          () => openEntry(entry, join(dir, "new.db")),
          /unable to open database file/,
        );
        assert.equal(fileHash(path), hash, `made read-only by ${fault.how}`);
        assert.equal(existsSync(join(dir, "new.db")), false);
      } finally {
        fault.undo();
      }
    });

    // The tmpfs is unmounted at the end, which needs every file on it closed.
    const keepsFileOpen = entry.knownLimitations?.["close-releases-file"];
    it(
      "a full disk: writes fail with 'database or disk is full', and the file is whole once space is freed",
      { ...SLOW, skip: keepsFileOpen && `known limitation of ${entry.id}: ${keepsFileOpen}` },
      async (t) => {
        const mount = join(dirname(tempDbPath()), "tmpfs");
        const fault = mountTmpfs(mount, "2m");
        if (typeof fault === "string") return skipWith(t, fault);
        try {
          await fillUpAndRecover(entry, mount);
        } finally {
          fault.undo();
        }
      },
    );

    it(
      "a database locked by another process: writes fail with 'database is locked' after busy_timeout, nothing changes",
      SLOW,
      async () => {
        await lockedByAnotherProcess(entry, entry.id === FIRST_AVAILABLE);
      },
    );
  });
}

async function fillUpAndRecover(entry: DriverEntry, mount: string): Promise<void> {
  const path = join(mount, "full.db");
  const db = await openEntry(entry, path);
  const queue = db.queue("q");
  let stored = 0;
  for (; stored < 20; stored++) queue.enqueue({ i: stored });
  const filler = join(mount, "filler");
  const fd = openSync(filler, "w");
  for (const size of [65_536, 4096, 512, 1]) {
    const chunk = Buffer.alloc(size, 1);
    for (;;) {
      try {
        writeSync(fd, chunk);
      } catch {
        break;
      }
    }
  }
  closeSync(fd);
  let full: Error | undefined;
  for (let i = 0; i < 10_000 && !full; i++) {
    try {
      queue.enqueue({ i, text: "y".repeat(1000) });
      stored++;
    } catch (error) {
      full = error as Error;
    }
  }
  assert.match(String(full?.message), /database or disk is full/);
  assert.throws(
    () =>
      db.transaction((tx) => queue.enqueueMany(Array(50).fill({ z: "z".repeat(1000) }), { tx })),
    /database or disk is full/,
  );
  assert.equal(
    Number(db.driver.get<{ n: number }>("SELECT count(*) AS n FROM _honker_live")?.n),
    stored,
  );

  rmSync(filler);
  const check = db.driver.get<{ integrity_check: string }>("PRAGMA integrity_check");
  assert.equal(check?.integrity_check, "ok");
  queue.enqueue({ after: true });
  db.transaction((tx) => queue.enqueue({ inTx: true }, { tx }));
  assert.equal(queue.stats().pending, stored + 2);
  closeEntry(entry, db);
  const again = await openEntry(entry, path);
  try {
    assert.equal(
      again.driver.get<{ integrity_check: string }>("PRAGMA integrity_check")?.integrity_check,
      "ok",
    );
    assert.equal(again.queue("q").stats().pending, stored + 2);
  } finally {
    closeEntry(entry, again);
  }
  await connectionsClosed(path);
}

async function lockedByAnotherProcess(entry: DriverEntry, waitFullTimeout: boolean): Promise<void> {
  const path = tempDbPath();
  const db = await openEntry(entry, path);
  const queue = db.queue("q");
  const id = queue.enqueue({ before: true });
  const peer = spawnScript(PEER, ["lock", path, entry.id]);
  const out = new LineReader(peer);
  try {
    await out.waitFor(/^locked$/, 45_000);
    const hash = honkerRowsHash(db.driver);
    if (waitFullTimeout) {
      // honker's busy_timeout is 5 s: the write waits that long, then fails. Every adapter gets
      // it from the same PRAGMA, so one adapter per run waits it out.
      const started = Date.now();
      assert.throws(() => queue.enqueue({ during: true }), /database is locked/);
      const waited = Date.now() - started;
      assert.ok(waited >= 4_500 && waited < 30_000, `waited ${waited} ms for the lock`);
    }

    // The rest with a 200 ms busy_timeout, set on the connection after open() to keep this short.
    db.driver.exec("PRAGMA busy_timeout = 200");
    const writes: Array<[string, () => unknown]> = [
      ["enqueue", () => queue.enqueue({ during: true })],
      ["claimBatch", () => queue.claimBatch("w", 1)],
      ["cancel", () => queue.cancel(id)],
      ["saveResult", () => db.saveResult(id, 1)],
      ["publish", () => db.stream("t").publish(1)],
      ["notify", () => db.notify("c", 1)],
      ["tryLock", () => db.tryLock("l", { owner: "o", ttlS: 10 })],
      ["tryRateLimit", () => db.tryRateLimit("r", { limit: 1, perS: 60 })],
      ["transaction", () => db.transaction((tx) => queue.enqueue(1, { tx }))],
    ];
    for (const [name, write] of writes) {
      const t0 = Date.now();
      assert.throws(write, /database is locked/, name);
      assert.ok(Date.now() - t0 < NO_HANG_MS, `${name} took ${Date.now() - t0} ms`);
    }
    assert.equal(honkerRowsHash(db.driver), hash);
    peer.stdin.end();
    await out.waitFor(/^released$/, 45_000);
    assert.ok(queue.enqueue({ after: true }) > id);
    assert.equal(queue.claimOne("w")?.id, id);
  } finally {
    if (peer.exitCode === null) peer.kill("SIGKILL");
    closeEntry(entry, db);
  }
}

function ffiSkip(): string | undefined {
  if (runtimeKey() !== "deno") {
    return "simulated through the Deno FFI adapter's library path (HONKER_SQLITE_PATH); needs Deno";
  }
  const ffi = driverMatrix().find((e) => e.id === "deno-ffi");
  if (ffi?.skip) return ffi.skip;
  if (process.platform !== "linux") return "the shim library is built for Linux";
  return cShimToolchain();
}

describe("a SQLite honker-ts must refuse (shim library through HONKER_SQLITE_PATH)", {
  skip: ffiSkip(),
}, () => {
  const variants: Array<[string, string, RegExp]> = [
    [
      "SQLite 3.37.0 is refused as too old, naming the version",
      `-DFAKE_VERSION="3.37.0"`,
      /^Cannot open ".*": SQLite 3\.37\.0 is too old; honker's schema needs 3\.38\.0 or newer/,
    ],
    [
      "a SQLite without JSON functions is refused",
      "-DNO_JSON",
      /^Cannot open ".*": SQLite [\d.]+ has no JSON functions \(json_valid failed: /,
    ],
  ];
  for (const [name, define, message] of variants) {
    it(name, SLOW, async () => {
      const dir = dirname(tempDbPath());
      const library = join(dir, "libshim.so");
      execFileSync("cc", [
        "-shared",
        "-fPIC",
        define,
        "-o",
        library,
        SHIM_SOURCE,
        "-lsqlite3",
        "-ldl",
      ], {
        stdio: "pipe",
      });
      const path = join(dir, "refused.db");
      const result = await runScript(PEER, ["open-ffi", path], { HONKER_SQLITE_PATH: library });
      assert.equal(result.code, 0, result.stderr);
      const line = JSON.parse(result.stdout.trim()) as {
        version: string;
        error?: { name: string; message: string };
      };
      if (define.includes("FAKE_VERSION")) assert.equal(line.version, "3.37.0");
      assert.equal(line.error?.name, "UnsupportedDatabaseError");
      assert.match(String(line.error?.message), message);
      assert.ok(!existsSync(path) || statSync(path).size === 0, "nothing was written");
    });
  }
});

/** Handles of every kind on one Database, with a claimed job, a held lock and a schedule. */
function misuseFixture(db: Database): MisuseFixture {
  const queue = db.queue("q", { visibilityTimeoutS: 300 });
  queue.enqueue({ held: true });
  const job = queue.claimOne("holder");
  queue.enqueue({ pending: true });
  const stream = db.stream("t");
  stream.saveOffset("c", stream.publish({ e: 1 }));
  const scheduler = db.scheduler();
  scheduler.add({ name: "s", queue: "q", schedule: "0 0 1 1 *" });
  const lock = db.tryLock("held", { owner: "me", ttlS: 60 });
  db.notify("c", { n: 1 });
  let finishedTx: Transaction | undefined;
  db.transaction((tx) => (finishedTx = tx));
  assert.ok(job && lock && finishedTx);
  return {
    db,
    queue,
    stream,
    scheduler,
    job,
    lock,
    outbox: db.outbox("o", () => {}),
    finishedTx,
  };
}

const NO_ERROR = Symbol("no error");

/**
 * Calls `call` and returns what it threw: synchronously, as a rejection, or from the first
 * `next()` of an async iterator it returned (each waited for at most 2 s).
 */
async function thrownBy(call: () => unknown): Promise<unknown> {
  let value: unknown;
  try {
    value = call();
  } catch (error) {
    return error;
  }
  const iterator = value as AsyncIterator<unknown> | undefined;
  const isIterator = typeof iterator?.next === "function" &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === "function";
  const pending = isIterator
    ? iterator?.next()
    : typeof (value as Promise<unknown> | undefined)?.then === "function"
    ? value as Promise<unknown>
    : undefined;
  if (pending === undefined) return NO_ERROR;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([pending, new Promise((resolve) => (timer = setTimeout(resolve, 2000)))]);
    return NO_ERROR;
  } catch (error) {
    return error;
  } finally {
    clearTimeout(timer);
    if (isIterator) await iterator?.return?.().catch(() => {});
  }
}

function describeError(error: unknown): string {
  return error === NO_ERROR
    ? "no error"
    : error instanceof Error
    ? `${error.constructor.name}: ${error.message}`
    : `a thrown ${typeof error}`;
}

/** Runs each case on `fixture`; returns what went wrong (wrong error, or a changed file). */
async function misuseProblems(fixture: MisuseFixture, cases: MisuseCase[]): Promise<string[]> {
  const problems: string[] = [];
  for (const { name, call, error, message } of cases) {
    const before = honkerRowsHash(fixture.db.driver);
    const thrown = await thrownBy(() => call(fixture));
    const exact = error === TypeError || error === RangeError;
    const classOk = exact ? (thrown as Error)?.constructor === error : thrown instanceof error;
    if (!classOk || !message.test((thrown as Error)?.message ?? "")) {
      problems.push(`${name}: expected ${error.name} ${message}, got ${describeError(thrown)}`);
    }
    if (honkerRowsHash(fixture.db.driver) !== before) problems.push(`${name}: changed the file`);
  }
  return problems;
}

for (const entry of driverMatrix()) {
  describe(`misuse of the public API (${entry.id})`, { skip: entry.skip }, () => {
    it("every public function refuses wrong types, NaN, Infinity, negatives, empty strings and non-JSON payloads with a TypeError/RangeError naming the argument, writing nothing", async () => {
      const db = await openEntry(entry, tempDbPath());
      try {
        const cases = misuseCases();
        const problems = await misuseProblems(misuseFixture(db), cases);
        assert.deepEqual(problems, [], `${problems.length} of ${cases.length} cases`);
      } finally {
        closeEntry(entry, db);
      }
    });

    it(
      "a 16 MiB string payload round-trips through a queue, a stream, a notification and a result",
      SLOW,
      async () => {
        const db = await openEntry(entry, tempDbPath());
        const stop = new AbortController();
        try {
          const big = "x".repeat(16 * 1024 * 1024);
          const queue = db.queue<string>("big");
          const id = queue.enqueue(big);
          const job = queue.claimOne("w");
          assert.ok(job?.id === id && job.payload === big, "the queue payload came back whole");
          assert.equal(job.ack(), true);
          db.saveResult(id, big);
          assert.ok(db.getResult(id) === big, "the result came back whole");
          const stream = db.stream<{ big: string }>("big");
          const offset = stream.publish({ big });
          assert.ok(
            stream.readSince(offset - 1, 1)[0]?.payload.big === big,
            "the event came back whole",
          );
          const heard = db.listen<string>("big", { signal: stop.signal }).next();
          db.notify("big", big);
          assert.ok((await heard).value?.payload === big, "the notification came back whole");
        } finally {
          stop.abort();
          closeEntry(entry, db);
        }
      },
    );

    it("valid edge values are accepted: empty-string, null and zero payloads, a zero delay", async () => {
      const db = await openEntry(entry, tempDbPath());
      try {
        const queue = db.queue("edge");
        for (const payload of ["", null, 0, false, [], {}]) {
          const id = queue.enqueue(payload, { delayS: 0, priority: -5 });
          assert.deepEqual(queue.getJob(id)?.payload, payload);
        }
        const stream = db.stream("edge");
        assert.equal(stream.readSince(stream.publish("", { key: "" }) - 1)[0]?.payload, "");
      } finally {
        closeEntry(entry, db);
      }
    });

    it("every call after close() throws DatabaseClosedError naming the action, and the file is unchanged", async () => {
      const path = tempDbPath();
      const db = await openEntry(entry, path);
      const fixture = misuseFixture(db);
      const hash = honkerRowsHash(db.driver);
      closeEntry(entry, db);
      assert.equal(db.closed, true);
      db.close(); // idempotent
      const problems: string[] = [];
      for (const [name, call] of closedCases()) {
        const thrown = await thrownBy(() => call(fixture));
        if (
          !(thrown instanceof DatabaseClosedError) ||
          !/^Cannot \S.*: the database is closed$/.test(thrown.message)
        ) {
          problems.push(`${name}: got ${describeError(thrown)}`);
        }
      }
      assert.deepEqual(problems, []);
      const again = await openEntry(entry, path);
      try {
        assert.equal(honkerRowsHash(again.driver), hash);
      } finally {
        closeEntry(entry, again);
      }
    });
  });
}

describe("open() with bad arguments", () => {
  const path = () => tempDbPath();
  const cases: Array<[string, (p: string) => Promise<unknown>, ErrorClass, RegExp]> = [
    ["an empty path", () => open(""), TypeError, /path must be a non-empty string/],
    ["a number as path", () => open(5 as never), TypeError, /path must be a non-empty string/],
    ["an in-memory database", () => open(":memory:"), UnsupportedDatabaseError, /in-memory/],
    ["an unknown wake mode", (p) => open(p, { wake: "x" as never }), TypeError, /wake must be/],
    [
      "pollIntervalMs -1",
      (p) => open(p, { pollIntervalMs: -1 }),
      RangeError,
      /pollIntervalMs must be a positive number of milliseconds, got -1/,
    ],
    [
      "pollIntervalMs NaN",
      (p) => open(p, { pollIntervalMs: NaN }),
      RangeError,
      /pollIntervalMs must be a positive number of milliseconds, got NaN/,
    ],
    [
      "backstopPollMs Infinity",
      (p) => open(p, { backstopPollMs: Infinity }),
      RangeError,
      /backstopPollMs must be a positive number of milliseconds, got Infinity/,
    ],
    [
      // Every runtime fires a longer timer after 1 ms: a slow backstop would become a busy one.
      "backstopPollMs beyond a 32-bit timer",
      (p) => open(p, { backstopPollMs: 2 ** 31 }),
      RangeError,
      /backstopPollMs must be at most 2147483647 ms/,
    ],
    [
      "idleBackstopPollMs shorter than backstopPollMs",
      (p) => open(p, { backstopPollMs: 500, idleBackstopPollMs: 100 }),
      RangeError,
      /idleBackstopPollMs \(100\) must not be shorter than backstopPollMs \(500\)/,
    ],
    [
      "idleBackstopPollMs 0",
      (p) => open(p, { idleBackstopPollMs: 0 }),
      RangeError,
      /idleBackstopPollMs must be a positive number of milliseconds, got 0/,
    ],
    [
      "pollIntervalMs as a string",
      (p) => open(p, { pollIntervalMs: "5" as never }),
      TypeError,
      /pollIntervalMs must be a positive number of milliseconds, got "5"/,
    ],
    [
      "an unknown driver",
      (p) => open(p, { driver: "nope" as never }),
      TypeError,
      /unknown driver "nope"/,
    ],
  ];
  for (const [name, call, error, message] of cases) {
    it(`${name} is refused before any file is created`, async () => {
      const p = path();
      await assert.rejects(() => call(p), (thrown: Error) => {
        assert.ok(thrown instanceof error, `${thrown.constructor.name}: ${thrown.message}`);
        assert.match(thrown.message, message);
        return true;
      });
      assert.equal(existsSync(p), false);
    });
  }
});

// Bugs this file found in core/, now fixed: each test pins the right behaviour.
for (const entry of driverMatrix()) {
  describe(`fixed bugs (${entry.id})`, { skip: entry.skip }, () => {
    it("durations too large for integer unix seconds are refused before anything is written", async () => {
      const db = await openEntry(entry, tempDbPath());
      try {
        const problems = await misuseProblems(misuseFixture(db), oversizedCases());
        assert.deepEqual(problems, []);
      } finally {
        closeEntry(entry, db);
      }
    });

    it("scheduler.run() after close() rejects with DatabaseClosedError", async () => {
      const db = await openEntry(entry, tempDbPath());
      const scheduler = db.scheduler();
      closeEntry(entry, db);
      await assert.rejects(scheduler.run(), DatabaseClosedError);
    });

    it("a worker id containing NUL is refused (node:sqlite reads it back cut)", async () => {
      const db = await openEntry(entry, tempDbPath());
      try {
        const queue = db.queue("nul");
        queue.enqueueMany([1, 2]);
        assert.throws(() => queue.claimBatch("worker\u0000one", 2), /must not contain a NUL/);
        assert.equal(queue.stats().pending, 2);
      } finally {
        closeEntry(entry, db);
      }
    });
  });
}
