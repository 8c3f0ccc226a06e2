/** Shared test helpers: temporary database files and plain-object row comparison. */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dirs: string[] = [];

/** A fresh, not yet existing database path in its own temporary folder. */
export function tempDbPath(name = "test.db"): string {
  const dir = mkdtempSync(join(tmpdir(), "honker-ts-"));
  dirs.push(dir);
  return join(dir, name);
}

/** Removes every folder made by tempDbPath in this process. */
export function removeTempDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Copies a row (possibly null-prototype) into a plain object for deepEqual. */
export function plain<T extends object>(row: T | undefined | null): T | undefined | null {
  return row == null ? row : { ...row };
}

/** plain() over every row. */
export function plainAll<T extends object>(rows: T[]): T[] {
  return rows.map((row) => ({ ...row }));
}
