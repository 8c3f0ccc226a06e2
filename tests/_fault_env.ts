/**
 * Real faults for `fault_test.ts`: fingerprints of a file and of honker's rows, read-only files
 * and directories (chmod, or `chattr +i` when running as root, which ignores permissions), and
 * a small tmpfs to fill up. Each helper either sets the fault up and returns how to undo it, or
 * returns the reason it cannot be set up here, for an explicit skip.
 */

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import type { SqliteDriver } from "../core/db/driver.ts";

/** SHA-256 of a file's bytes. */
export function fileHash(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/**
 * A fingerprint of every row of honker's tables (and of sqlite_sequence, so a refused insert
 * that burned an id is seen too), independent of row order.
 */
export function honkerRowsHash(driver: SqliteDriver): string {
  const tables = driver.all<{ name: string }>(
    "SELECT name FROM sqlite_schema WHERE type = 'table' " +
      "AND (name LIKE '\\_honker\\_%' ESCAPE '\\' OR name = 'sqlite_sequence') ORDER BY name",
  ).map((row) => row.name);
  const hash = createHash("sha256");
  for (const table of tables) {
    // Table names come from sqlite_schema, not from user input.
    const rows = driver.all(`SELECT * FROM "${table}"`).map((row) => JSON.stringify({ ...row }));
    hash.update(`${table}\n${rows.sort().join("\n")}\n`);
  }
  return hash.digest("hex");
}

/** A fault that was set up, and how to take it away again. */
export interface Fault {
  /** How it was made, for the test's diagnostics. */
  how: string;
  /** Restores the original state. */
  undo(): void;
}

function attempt(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Whether writing to `target` (a file, or a new file in a directory) is refused. */
function writeRefused(target: string, kind: "file" | "dir"): boolean {
  const probe = join(target, `.honker-write-probe-${process.pid}`);
  const failure = attempt(() => {
    const fd = openSync(kind === "file" ? target : probe, kind === "file" ? "r+" : "wx");
    closeSync(fd);
  });
  if (failure === undefined && kind === "dir") rmSync(probe, { force: true });
  return failure !== undefined;
}

/**
 * Makes a file or directory read-only for this process: `chmod` first; when that does not stop
 * writes (root ignores permissions), the immutable attribute (`chattr +i`), which binds root too.
 */
export function makeReadOnly(target: string, kind: "file" | "dir"): Fault | string {
  if (process.platform === "win32") return "read-only files are not simulated on Windows";
  chmodSync(target, kind === "file" ? 0o444 : 0o555);
  if (writeRefused(target, kind)) {
    return { how: "chmod", undo: () => chmodSync(target, kind === "file" ? 0o644 : 0o755) };
  }
  chmodSync(target, kind === "file" ? 0o644 : 0o755);
  const failure = attempt(() => execFileSync("chattr", ["+i", target], { stdio: "pipe" }));
  if (failure !== undefined) {
    return "this process ignores file permissions (running as root) and cannot set the " +
      `immutable attribute instead (chattr +i: ${failure.split("\n")[0]})`;
  }
  const undo = () => execFileSync("chattr", ["-i", target], { stdio: "pipe" });
  if (!writeRefused(target, kind)) {
    undo();
    return "neither chmod nor chattr +i stop this process from writing";
  }
  return { how: "chattr +i (root ignores chmod)", undo };
}

/** Mounts a tmpfs of `size` (such as "2m") at a new directory `dir`. */
export function mountTmpfs(dir: string, size: string): Fault | string {
  if (process.platform !== "linux") return "a small tmpfs needs Linux";
  mkdirSync(dir, { recursive: true });
  const failure = attempt(() =>
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir], { stdio: "pipe" })
  );
  if (failure !== undefined) {
    return `cannot mount a ${size} tmpfs to fill up (needs root or CAP_SYS_ADMIN): ` +
      failure.split("\n")[0];
  }
  return { how: `tmpfs size=${size}`, undo: () => unmount(dir) };
}

/**
 * Unmounts `dir`, retrying while it is busy (a connection closing in a worker thread may still
 * hold a file there for a moment), and detaching it lazily as a last resort so that no mount
 * outlives the test.
 */
function unmount(dir: string): void {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  let failure: string | undefined;
  for (let i = 0; i < 200; i++) {
    failure = attempt(() => execFileSync("umount", [dir], { stdio: "pipe" }));
    if (failure === undefined) return;
    Atomics.wait(pause, 0, 0, 25);
  }
  execFileSync("umount", ["-l", dir], { stdio: "pipe" });
  throw new Error(`Cannot unmount ${dir} (detached it lazily): ${failure}`);
}

/** Whether a C compiler and SQLite's header and library are there to build a shim with. */
export function cShimToolchain(): string | undefined {
  const cc = attempt(() => execFileSync("cc", ["--version"], { stdio: "pipe" }));
  if (cc !== undefined) return `no C compiler (cc --version: ${cc.split("\n")[0]})`;
  const header = attempt(() =>
    execFileSync("cc", ["-E", "-x", "c", "-"], { input: "#include <sqlite3.h>\n", stdio: "pipe" })
  );
  if (header !== undefined) return "no sqlite3.h to compile the shim against";
  return undefined;
}
