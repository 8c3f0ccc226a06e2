/**
 * Argument readers for honker's SQL functions: honker's own functions accept TEXT where text is
 * due and whole numbers (even sent as REAL) where integers are due, and fail with a message
 * naming the function and the argument otherwise. Private to `core/`.
 *
 * @module
 */

import type { SqlValue } from "./driver.ts";

/** Throws an SQL function error naming the function. */
export function fail(fn: string, message: string): never {
  throw new Error(`honker-ts: ${fn}: ${message}`);
}

/** A TEXT argument. */
export function text(fn: string, args: SqlValue[], i: number): string {
  const value = args[i];
  if (typeof value !== "string") fail(fn, `argument ${i + 1} must be text, got ${typeof value}`);
  return value;
}

/** An INTEGER argument; whole REALs are accepted, as honker does. */
export function int(fn: string, args: SqlValue[], i: number): number {
  const value = args[i];
  const n = typeof value === "bigint" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isSafeInteger(n)) {
    fail(fn, `argument ${i + 1} must be a whole number, got ${String(value)}`);
  }
  return n;
}

/** An INTEGER argument or NULL. */
export function intOrNull(fn: string, args: SqlValue[], i: number): number | null {
  return args[i] === null ? null : int(fn, args, i);
}
