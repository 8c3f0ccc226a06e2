/**
 * A connection without honker's SQL functions, explained. A trigger calling `notify()` (or SQL
 * written for honker's extension) makes every statement that fires it fail on such a
 * connection, and SQLite says only "no such function: notify". So where the Database cannot
 * register the functions, or was told not to, its driver adds why and what to do to that error:
 * the one place every statement passes, whether honker-ts runs it or the application does
 * (`tx.run()`, `db.driver`).
 *
 * @module
 */

import type {
  Row,
  RunResult,
  SqlFunction,
  SqlFunctionOptions,
  SqliteDriver,
  SqlValue,
} from "./driver.ts";
import { SqliteError } from "./errors.ts";
import { registerSqlFunctions, sqlFunctionsUnsupported } from "../sql_functions.ts";

/** SQLite's error for one of honker's functions (all are `notify` or `honker_…`). */
const HONKER_FUNCTION_MISSING = /\bno such function: (notify|honker_\w+)\b/;
const EXPLAINED = "this connection has no honker SQL functions";
const USE_ANOTHER_DRIVER = 'use a driver that can (driver: "bun-ffi" or "node-sqlite" on Bun, ' +
  '"node-sqlite" on Node and Deno)';
const OR_KEEP_TRIGGERS_OFF = "or keep triggers that call them off tables this process writes";

/** Why honker's SQL functions are not on `driver`'s connection, and what to do. */
function missingReason(driver: SqliteDriver, enabled: boolean): string {
  const unsupported = sqlFunctionsUnsupported(driver);
  if (enabled || unsupported !== undefined) {
    const why = enabled ? unsupported : `sqlFunctions: false was given (and ${unsupported})`;
    return `${why}; ${USE_ANOTHER_DRIVER}, ${OR_KEEP_TRIGGERS_OFF}`;
  }
  return "the Database was opened with sqlFunctions: false; open it without that (or load " +
    `honker's extension on the connection), ${OR_KEEP_TRIGGERS_OFF}`;
}

/** SQLite's error with the reason added when it is about one of honker's functions. */
function explained(error: unknown, reason: string): unknown {
  if (!(error instanceof SqliteError) || !HONKER_FUNCTION_MISSING.test(error.message)) {
    return error;
  }
  if (error.message.includes(EXPLAINED)) return error; // fromDriver() on another Database's driver
  return new SqliteError(`${error.message} (${EXPLAINED}: ${reason})`, error.resultCode, {
    cause: error,
  });
}

/** Passes every call to the connection and explains its "no such function" errors. */
class ExplainingDriver implements SqliteDriver {
  readonly name: string;
  readonly path: string;
  readonly reentrantFunctions?: boolean;
  readonly values?: (sql: string, params?: readonly SqlValue[]) => SqlValue[][];
  readonly function?: (name: string, fn: SqlFunction, options?: SqlFunctionOptions) => void;
  #driver: SqliteDriver;
  #reason: string;

  constructor(driver: SqliteDriver, reason: string) {
    this.#driver = driver;
    this.#reason = reason;
    this.name = driver.name;
    this.path = driver.path;
    this.reentrantFunctions = driver.reentrantFunctions;
    if (driver.values) this.values = (sql, params) => this.#call(() => driver.values!(sql, params));
    if (driver.function) this.function = (name, fn, options) => driver.function!(name, fn, options);
  }

  #call<R>(statement: () => R): R {
    try {
      return statement();
    } catch (error) {
      throw explained(error, this.#reason);
    }
  }

  exec(sql: string): void {
    this.#call(() => this.#driver.exec(sql));
  }

  run(sql: string, params?: readonly SqlValue[]): RunResult {
    return this.#call(() => this.#driver.run(sql, params));
  }

  all<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): T[] {
    return this.#call(() => this.#driver.all<T>(sql, params));
  }

  get<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): T | undefined {
    return this.#call(() => this.#driver.get<T>(sql, params));
  }

  inTransaction(): boolean {
    return this.#driver.inTransaction();
  }

  close(): void {
    this.#driver.close();
  }
}

/**
 * Registers honker's SQL functions on `driver`'s connection and returns the driver the
 * Database runs every statement on: `driver` itself, or, when the functions are missing
 * (`enabled` false, or a driver that cannot register them or cannot run SQL inside them, such
 * as bun:sqlite), a driver whose SQLite "no such function: notify" / "honker_…" errors say why
 * and what to do. The error stays a SqliteError with the same code, SQLite's one as its cause.
 */
export function withSqlFunctions(driver: SqliteDriver, enabled: boolean): SqliteDriver {
  if (enabled && registerSqlFunctions(driver)) return driver;
  return new ExplainingDriver(driver, missingReason(driver, enabled));
}
