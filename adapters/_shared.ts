/**
 * Pieces every adapter shares: parameter checks, the integer conversion rules of the driver
 * contract, SQL function wrapping and the driver's path. Private to `adapters/`.
 *
 * @module
 */

import type { SqlValue } from "../core/db/driver.ts";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

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

/** Rewrites, in place, the bigint arguments of SQL function `name` as numbers (or a RangeError). */
export function argsToNumbers(name: string, args: SqlValue[]): void {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (typeof arg === "bigint") args[i] = bigintToNumber(arg, `${name}() argument ${i + 1}`);
  }
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

/**
 * The path a driver reports: the one the caller gave, else the file the handle says it opened.
 * A handle that cannot say (libsql, a node:sqlite without `location()`) needs `{ path }`: without
 * it honker-ts would take the file for an in-memory database and refuse it with a misleading
 * message, so this throws a TypeError that says so instead.
 *
 * @param adapter The adapter's name, for the message.
 * @param given `options.path`.
 * @param fromHandle Reads the handle's own path; undefined when the handle cannot tell.
 * @param why Why the handle cannot tell, for the message.
 */
export function handlePath(
  adapter: string,
  given: string | undefined,
  fromHandle: () => string | undefined,
  why = `this ${adapter} handle does not say which file it opened`,
): string {
  if (given !== undefined) {
    if (typeof given !== "string") {
      throw new TypeError(`Cannot wrap the ${adapter} handle: path must be a string`);
    }
    return given;
  }
  const known = fromHandle();
  if (typeof known === "string") return known;
  throw new TypeError(
    `Cannot wrap the ${adapter} handle: ${why}; pass { path } with the file it was opened with`,
  );
}
