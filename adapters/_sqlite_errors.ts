/**
 * The one mapping of a binding's SQLite errors (and failed opens) to SqliteError, and the error
 * of a closed connection. Private to `adapters/`.
 *
 * @module
 */

import { SqliteError } from "../core/db/errors.ts";
import { resultCodeOfName } from "./_sqlite_codes.ts";

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
