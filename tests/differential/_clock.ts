/**
 * The fake clock of the differential test: one second that every connection of a sequence reads
 * through a `unixepoch()` of its own, in place of SQLite's built-in.
 *
 * A connection whose binding registers JS SQL functions reads the clock from JS. libsql cannot
 * (its `Database.function()` throws "not implemented"), so its connection loads
 * tests/fixtures/fake_clock.c, built here with `cc`, and keeps a copy of the second that the
 * clock sets through `fake_clock_set(n)` whenever it moves.
 *
 * Both kinds accept only `unixepoch()`: honker reads "now" only in that form, and any other form
 * would read the wall clock (SQLite's built-in) and make the comparison depend on it.
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { SqliteDriver } from "../../core/db/driver.ts";
import type { LibsqlDatabaseLike } from "../../adapters/libsql.ts";
import type { DriverEntry } from "../_drivers.ts";
import { tempDbPath } from "../_helpers.ts";

const FAKE_CLOCK_SOURCE = fileURLToPath(new URL("../fixtures/fake_clock.c", import.meta.url));

/** Why a driver that cannot register SQL functions (and loads no extension) is not compared. */
const NO_CLOCK = "the driver cannot register SQL functions, so the shared fake clock cannot " +
  "replace unixepoch() on its side";

/** Drivers without JS SQL functions that get the clock from tests/fixtures/fake_clock.c. */
const EXTENSION_CLOCK: ReadonlySet<DriverEntry["id"]> = new Set(["libsql"]);

/** One second for every connection of a sequence; moving it moves every copy of it. */
export class FakeClock {
  #now: number;
  #copies: Array<(now: number) => void> = [];

  /** A clock at `start` (seconds since the epoch). */
  constructor(start: number) {
    this.#now = start;
  }

  /** The second every connection reads. */
  get now(): number {
    return this.#now;
  }

  /** Moves the clock, and every connection's copy of it, forward by `seconds`. */
  advance(seconds: number): void {
    this.#now += seconds;
    for (const set of this.#copies) set(this.#now);
  }

  /** Keeps a connection's copy of the clock: set now, and again whenever the clock moves. */
  follow(set: (now: number) => void): void {
    set(this.#now);
    this.#copies.push(set);
  }
}

/** The JS `unixepoch()` of the clock, registered with `varargs` so that it refuses arguments. */
export function jsUnixepoch(clock: FakeClock): (...args: unknown[]) => number {
  return (...args) => {
    if (args.length > 0) throw new Error("unixepoch(): the fake clock supports no arguments");
    return clock.now;
  };
}

function attempt(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return (error as Error).message.split("\n")[0];
  }
}

/** Why `entry` cannot be put on the fake clock here, or undefined when it can. */
export function clockSkip(entry: DriverEntry): string | undefined {
  if (entry.supportsFunctions !== false) return undefined;
  if (!EXTENSION_CLOCK.has(entry.id)) return NO_CLOCK;
  const cc = attempt(() => execFileSync("cc", ["--version"], { stdio: "pipe" }));
  if (cc !== undefined) {
    return `${entry.id} gets the fake clock from a C extension, and there is no C compiler ` +
      `(cc --version: ${cc})`;
  }
  const header = attempt(() =>
    execFileSync("cc", ["-E", "-x", "c", "-"], {
      input: "#include <sqlite3ext.h>\n",
      stdio: "pipe",
    })
  );
  if (header !== undefined) {
    return `${entry.id} gets the fake clock from a C extension, and there is no sqlite3ext.h ` +
      "to build it against";
  }
  return undefined;
}

let extensionPath: string | undefined;

/**
 * Builds tests/fixtures/fake_clock.c once per process, in a folder of tempDbPath() (the caller
 * removes it with removeTempDirs()), when one of `entries` needs it.
 */
export function prepareClocks(entries: readonly DriverEntry[]): void {
  if (extensionPath !== undefined || !entries.some((e) => EXTENSION_CLOCK.has(e.id))) return;
  const library = join(dirname(tempDbPath()), "fake_clock.so");
  execFileSync("cc", ["-shared", "-fPIC", "-o", library, FAKE_CLOCK_SOURCE], { stdio: "pipe" });
  extensionPath = library;
}

type LibsqlWithExtensions = LibsqlDatabaseLike & { loadExtension(path: string): void };

/** libsql's connection with fake_clock.c loaded, through fromLibsql as an application would. */
async function openLibsqlOnClock(path: string, clock: FakeClock): Promise<SqliteDriver> {
  if (extensionPath === undefined) throw new Error("prepareClocks() has not built fake_clock.c");
  const { fromLibsql } = await import("../../adapters/libsql.ts");
  const mod = await import("libsql" as string) as { default: new (p: string) => unknown };
  const handle = new mod.default(path) as LibsqlWithExtensions;
  try {
    handle.exec("PRAGMA busy_timeout = 5000");
    handle.loadExtension(extensionPath);
  } catch (error) {
    handle.close();
    throw error;
  }
  const driver = fromLibsql(handle, { path });
  clock.follow((now) => driver.run("SELECT fake_clock_set(?)", [now]));
  return driver;
}

/** Opens `entry` on `path` with its `unixepoch()` reading `clock`. */
export async function openOnClock(
  entry: DriverEntry,
  path: string,
  clock: FakeClock,
): Promise<SqliteDriver> {
  if (EXTENSION_CLOCK.has(entry.id)) return await openLibsqlOnClock(path, clock);
  const driver = await entry.open(path);
  if (typeof driver.function !== "function") throw new Error(`${driver.name}: no function()`);
  // Deterministic: SQLite then reads it once per statement, as it reads the real unixepoch().
  driver.function("unixepoch", jsUnixepoch(clock), { deterministic: true, varargs: true });
  return driver;
}
