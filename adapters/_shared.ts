/**
 * Pieces every adapter shares: the bounded statement cache, parameter checks and integer
 * conversion rules of the driver contract. Private to `adapters/`.
 *
 * @module
 */

import type { SqlValue } from "../core/driver.ts";

/** How many prepared statements an adapter keeps before evicting the least recently used. */
export const STATEMENT_CACHE_SIZE_DEFAULT = 256;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A statement handed out by {@linkcode StatementCache.acquire}, to give back with `release()`. */
export interface StatementLease<S> {
  /** The prepared statement, reserved for this one execution. */
  readonly statement: S;
}

interface CacheEntry<S> extends StatementLease<S> {
  /** An execution holds it: a nested call with the same SQL must not reset it. */
  busy: boolean;
  /** Still in the map; an evicted or uncached statement is finalized when released. */
  cached: boolean;
}

/**
 * A bounded least-recently-used map from SQL text to a prepared statement, which never hands out
 * a statement that is still executing.
 *
 * A SQL function (honker's, called from a user's trigger) can run the very SQL whose statement
 * fired it: `honker_enqueue()` in a trigger on `_honker_live` runs the INSERT that enqueue() is
 * still stepping. Rebinding that statement would reset it mid-step (a wrong lastInsertRowid on
 * node:sqlite, SQLITE_MISUSE through FFI, a crash in some bindings), so a statement is marked
 * busy while it runs and a nested call with the same SQL gets a fresh statement of its own,
 * finalized when released. A busy statement that is evicted meanwhile is finalized on release.
 *
 * A Map keeps insertion order, so re-inserting on every hit makes the first key the least
 * recently used one.
 */
export class StatementCache<S> {
  #map = new Map<string, CacheEntry<S>>();
  #capacity: number;
  #finalize: (statement: S) => void;

  /** Creates a cache that finalizes statements it evicts. */
  constructor(capacity: number, finalize: (statement: S) => void) {
    this.#capacity = capacity;
    this.#finalize = finalize;
  }

  /**
   * Reserves the statement for `sql`, preparing (and caching) it on a miss, or preparing an
   * uncached one when the cached statement is still executing. Always pair with `release()`.
   */
  acquire(sql: string, prepare: (sql: string) => S): StatementLease<S> {
    const hit = this.#map.get(sql);
    if (hit !== undefined) {
      if (hit.busy) {
        const fresh: CacheEntry<S> = { statement: prepare(sql), busy: true, cached: false };
        return fresh;
      }
      this.#map.delete(sql);
      this.#map.set(sql, hit);
      hit.busy = true;
      return hit;
    }
    const entry: CacheEntry<S> = { statement: prepare(sql), busy: true, cached: true };
    this.#map.set(sql, entry);
    if (this.#map.size > this.#capacity) {
      const oldest = this.#map.keys().next().value as string;
      this.#forget(this.#map.get(oldest)!);
      this.#map.delete(oldest);
    }
    return entry;
  }

  /** Gives back a statement from `acquire()`: it is free for reuse, or finalized if uncached. */
  release(lease: StatementLease<S>): void {
    const entry = lease as CacheEntry<S>;
    entry.busy = false;
    if (!entry.cached) this.#finalize(entry.statement);
  }

  #forget(entry: CacheEntry<S>): void {
    entry.cached = false;
    if (!entry.busy) this.#finalize(entry.statement);
  }

  /** Finalizes and forgets every cached statement (one still executing, when released). */
  clear(): void {
    for (const entry of this.#map.values()) this.#forget(entry);
    this.#map.clear();
  }

  /** How many statements are cached. */
  get size(): number {
    return this.#map.size;
  }
}

/** Describes a value for an error message without printing a whole payload. */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return value.constructor?.name ?? "object";
  return `${typeof value} ${String(value)}`;
}

/**
 * Checks one parameter against the contract and returns what to hand the native binding.
 *
 * `integersAsBigInt` is for bindings (node:sqlite) that bind every JS number as REAL: safe
 * integer numbers are converted to bigint so SQLite stores and computes them as INTEGER.
 */
export function checkParam(value: unknown, index: number, integersAsBigInt: boolean): SqlValue {
  switch (typeof value) {
    case "string":
      return value;
    case "number":
      // Only exact integers bind as INTEGER; a whole number past 2^53 is already an
      // approximation, so it stays REAL, as bun:sqlite binds it.
      if (integersAsBigInt && Number.isSafeInteger(value)) return BigInt(value);
      return value;
    case "bigint":
      if (value < INT64_MIN || value > INT64_MAX) {
        throw new RangeError(
          `Cannot bind parameter ${index + 1}: bigint ${value} is outside the signed 64-bit range`,
        );
      }
      return value;
    case "object":
      if (value === null || value instanceof Uint8Array) return value;
  }
  throw new TypeError(
    `Cannot bind parameter ${index + 1}: ${describe(value)} is not a SQL value ` +
      "(use null, number, bigint, string or Uint8Array)",
  );
}

/** Checks every parameter; returns a new array only when a value had to change. */
export function checkParams(
  params: readonly SqlValue[] | undefined,
  integersAsBigInt: boolean,
): readonly SqlValue[] {
  if (params === undefined) return [];
  if (!Array.isArray(params)) {
    throw new TypeError(`Cannot bind parameters: expected an array, got ${describe(params)}`);
  }
  let out: SqlValue[] | undefined;
  for (let i = 0; i < params.length; i++) {
    const checked = checkParam(params[i], i, integersAsBigInt);
    if (checked !== params[i]) {
      out ??= params.slice();
      out[i] = checked;
    }
  }
  return out ?? params;
}

/** Refuses more parameters than the statement has placeholders (SQLite would ignore them). */
export function checkParamCount(values: readonly SqlValue[], placeholders: number): void {
  if (values.length > placeholders) {
    throw new RangeError(
      `Cannot bind parameter ${placeholders + 1}: the statement takes ${placeholders}`,
    );
  }
}

/**
 * Converts an integer read as bigint to a number, refusing any that would lose precision.
 * `column` is a name, or a 1-based position for rows read as arrays.
 */
export function bigintToNumber(value: bigint, column: string | number): number {
  // Rounding is monotonic and 2^53 - 1 is exact, so the number is safe exactly when the bigint
  // is in range; comparing numbers is cheaper than comparing bigints on this per-cell path.
  const number = Number(value);
  if (Number.isSafeInteger(number)) return number;
  const where = typeof column === "number" ? `column ${column}` : `column "${column}"`;
  throw new RangeError(
    `Cannot read ${where}: integer ${value} is outside ±(2^53 - 1) and would lose precision`,
  );
}

/** Rewrites, in place, the bigint columns of a row object as numbers (or a RangeError). */
export function rowToNumbers<T>(row: T): T {
  const record = row as Record<string, unknown>;
  for (const key in record) {
    const value = record[key];
    if (typeof value === "bigint") record[key] = bigintToNumber(value, key);
  }
  return row;
}

/** Rewrites, in place, the bigint cells of rows read as arrays as numbers (or a RangeError). */
export function valuesToNumbers(rows: unknown[][]): SqlValue[][] {
  for (const row of rows) {
    for (let i = 0; i < row.length; i++) {
      const value = row[i];
      if (typeof value === "bigint") row[i] = bigintToNumber(value, i + 1);
    }
  }
  return rows as SqlValue[][];
}

/**
 * Converts the result of a TypeScript SQL function for SQLite: integer numbers become bigint
 * so bindings that would return a REAL return an INTEGER; anything else must be a SqlValue.
 */
export function sqlFunctionResult(value: unknown, name: string): SqlValue {
  if (value === undefined) return null;
  try {
    return checkParam(value, 0, true);
  } catch (error) {
    throw new TypeError(
      `SQL function ${name}() returned ${describe(value)}, which is not a SQL value`,
      { cause: error },
    );
  }
}

/** The error every adapter throws when used after `close()`. */
export function closedError(adapter: string, action: string): Error {
  return new Error(`Cannot ${action}: the ${adapter} connection is closed`);
}

/**
 * Wraps a TypeScript SQL function for a binding: results converted by `sqlFunctionResult`,
 * arguments passed through `convertArgs` first when given, and the arity kept (bindings read it
 * from `length`, which a rest-parameter wrapper would hide).
 */
export function wrapSqlFunction(
  name: string,
  fn: (...args: SqlValue[]) => unknown,
  convertArgs?: (args: SqlValue[]) => void,
): (...args: SqlValue[]) => SqlValue {
  const wrapper = (...args: SqlValue[]) => {
    convertArgs?.(args);
    return sqlFunctionResult(fn(...args), name);
  };
  Object.defineProperty(wrapper, "length", { value: fn.length });
  return wrapper;
}
