/**
 * Pieces every adapter shares: parameter checks, integer conversion rules of the driver
 * contract, and the one mapping of a binding's SQLite errors (and failed opens) to SqliteError.
 * Private to `adapters/`.
 *
 * @module
 */

import type { SqlValue } from "../core/db/driver.ts";
import { SqliteError } from "../core/db/errors.ts";
import { resultCodeOfName } from "./_sqlite_codes.ts";

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
 * SQLite's own texts (`sqlite3_errstr`, and the messages it words itself) by the primary result
 * code they report, for errors that carry only the message: Deno's node:sqlite drops `errcode`
 * from `exec()` errors, @db/sqlite throws a plain Error with `sqlite3_errmsg`.
 */
const SQLITE_MESSAGE_CODES: ReadonlyArray<readonly [RegExp, number]> = [
  [/^database is locked|^cannot (commit|rollback) transaction - SQL statements in progress/, 5],
  [/^database (table|schema) is locked/, 6],
  [/constraint failed/, 19],
  [/^unable to open database file/, 14],
  [/^attempt to write a readonly database/, 8],
  [/^disk I\/O error/, 10],
  [/^database disk image is malformed/, 11],
  [/^file is not a database/, 26],
  [/^database or disk is full/, 13],
  [/^interrupted/, 9],
  [/^out of memory/, 7],
  [/^string or blob too big/, 18],
  [/^datatype mismatch/, 20],
  [/^bad parameter or other API misuse/, 21],
  [/^column index out of range/, 25],
  [/^(authorization denied|not authorized)/, 23],
  [/^access permission denied/, 3],
  [/^(query aborted|abort due to ROLLBACK)/, 4],
  [/^locking protocol/, 15],
  [/^database schema has changed/, 17],
];

/** The result code SQLite's `message` reports; SQLITE_ERROR for its other texts. */
function resultCodeOfMessage(message: string): number {
  for (const [pattern, code] of SQLITE_MESSAGE_CODES) if (pattern.test(message)) return code;
  return 1;
}

/** The result code of an error a binding threw for SQLite, or undefined when it is not one. */
function reportedResultCode(error: Error, plainErrorsAreSqlite: boolean): number | undefined {
  const e = error as Error & {
    code?: unknown;
    errcode?: unknown;
    errno?: unknown;
    rawCode?: unknown;
  };
  if (e.code === "ERR_SQLITE_ERROR") {
    return typeof e.errcode === "number" ? e.errcode : resultCodeOfMessage(e.message); // node:sqlite
  }
  if (e.name === "SQLiteError" && typeof e.errno === "number") return e.errno; // bun:sqlite
  if (e.name === "SqliteError" && typeof e.code === "number") return e.code; // @db/sqlite
  if (e.name === "SqliteError" && typeof e.code === "string") {
    // libsql's rawCode; better-sqlite3 names the (extended) code only.
    return typeof e.rawCode === "number" ? e.rawCode : resultCodeOfName(e.code);
  }
  if (plainErrorsAreSqlite && Object.getPrototypeOf(e) === Error.prototype) {
    return resultCodeOfMessage(e.message);
  }
  return undefined;
}

/**
 * Turns an error a binding threw for SQLite into a {@linkcode SqliteError} with SQLite's
 * message, its result code and the binding's error as `cause`, whatever the binding's shape:
 * node:sqlite's `errcode`, bun:sqlite's `errno`, @db/sqlite's numeric `code` (its message
 * prefixed with that code), libsql's `rawCode`, better-sqlite3's code name. Anything else, such
 * as the TypeError of a refused parameter or the exception of a SQL function, is returned
 * unchanged.
 *
 * @param error What the binding threw.
 * @param plainErrorsAreSqlite The call can only fail for SQLite's reasons, and the binding
 * throws those as plain Errors carrying only SQLite's message (@db/sqlite).
 */
export function toSqliteError(error: unknown, plainErrorsAreSqlite = false): unknown {
  if (!(error instanceof Error) || error instanceof SqliteError) return error;
  const resultCode = reportedResultCode(error, plainErrorsAreSqlite);
  if (resultCode === undefined) return error;
  const message = error.name === "SqliteError"
    ? error.message.replace(/^\d+: /, "")
    : error.message;
  return new SqliteError(message, resultCode, { cause: error });
}

/**
 * Why a file in `path` cannot be created, when the cause is its directory: SQLite says only
 * "unable to open database file". Asked only after an open failed; node:fs is loaded then, and
 * exists on Node, Deno and Bun alike.
 */
async function directoryProblem(path: string): Promise<string | undefined> {
  if (path === "" || path === ":memory:" || path.startsWith("file:")) return undefined;
  try {
    const { statSync } = await import("node:fs");
    const { dirname } = await import("node:path");
    const directory = dirname(path);
    let stat;
    try {
      stat = statSync(directory);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === "ENOENT" || code === "ENOTDIR") {
        return `the directory ${JSON.stringify(directory)} does not exist`;
      }
      return undefined;
    }
    return stat.isDirectory() ? undefined : `${JSON.stringify(directory)} is not a directory`;
  } catch {
    return undefined; // no file system access here: SQLite's message alone
  }
}

/**
 * The error for a database file an adapter could not open: SQLite's error as a
 * {@linkcode SqliteError} whose message names the path, and the directory when that is the
 * cause. Anything that is not SQLite's error is returned unchanged.
 *
 * @param path The path as given to the adapter.
 * @param error What the binding threw.
 */
export async function openError(path: string, error: unknown): Promise<unknown> {
  const sqlite = toSqliteError(error);
  if (!(sqlite instanceof SqliteError)) return error;
  // Deno's node:sqlite appends the path itself.
  const message = sqlite.message.endsWith(`: ${path}`)
    ? sqlite.message.slice(0, -(path.length + 2))
    : sqlite.message;
  const why = sqlite.code === "SQLITE_CANTOPEN" ? await directoryProblem(path) : undefined;
  return new SqliteError(
    `Cannot open database ${JSON.stringify(path)}: ${message}${why ? ` (${why})` : ""}`,
    sqlite.resultCode,
    { cause: error },
  );
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
