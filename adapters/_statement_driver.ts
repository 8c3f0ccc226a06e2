/**
 * The one implementation of the driver contract that every adapter shares: the closed check,
 * parameter checks, the statement cache, error mapping, function registration, transactions and
 * close. An adapter supplies only what its binding does differently, as a
 * {@linkcode StatementBinding}. Private to `adapters/`.
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
} from "../core/db/driver.ts";
import { checkParams, wrapSqlFunction } from "./_shared.ts";
import { closedError, toSqliteError } from "./_sqlite_errors.ts";
import { STATEMENT_CACHE_SIZE_DEFAULT, StatementCache } from "./_statement_cache.ts";

/** Runs a prepared statement of type `S` with checked parameters. */
export type StatementOp<S, R> = (statement: S, values: readonly SqlValue[]) => R;

/**
 * What one binding does its own way. Its functions close over the native handle and never use
 * `this`: the driver calls them detached.
 */
export interface StatementBinding<S> {
  /** The driver's name. */
  readonly name: string;
  /** The driver's path. */
  readonly path: string;
  /** Bind safe integer numbers as bigint, for bindings that bind every number as REAL. */
  readonly integersAsBigInt: boolean;
  /** `false` when a query run from inside a SQL function fails on this binding. */
  readonly reentrantFunctions?: boolean;
  /** Prepared statements kept per connection. Defaults to 256. */
  readonly statementCacheSize?: number;
  /** Whether `close()` also closes the handle. Defaults to true. */
  readonly ownsHandle?: boolean;
  /** A failed statement is finalized instead of reused (one the binding leaves un-reset). */
  readonly discardFailed?: boolean;
  /** Compiles `sql`; its errors go through `toSqliteError()`. */
  prepare(sql: string): S;
  /** Compiles `sql` for `values()`, cached apart because the array mode sticks to a statement. */
  prepareArrays?(sql: string): S;
  /** Frees a statement the cache evicted. */
  finalize(statement: S): void;
  /** Runs a statement to its end. */
  run: StatementOp<S, RunResult>;
  /** Reads every row. */
  all: StatementOp<S, Row[]>;
  /** Reads the first row. */
  get: StatementOp<S, Row | undefined>;
  /** Reads every row as an array of cells; without it the driver has no `values()`. */
  values?: StatementOp<S, SqlValue[][]>;
  /** Runs SQL without parameters. */
  exec(sql: string): void;
  /** Whether a transaction is open. */
  inTransaction(): boolean;
  /** Registers a scalar function; without it the driver has no `function()`. */
  function?(name: string, fn: SqlFunction, options: Required<SqlFunctionOptions>): void;
  /** Closes the native handle. */
  close(): void;
  /** What the caller gets for what the binding threw. Defaults to `toSqliteError()`. */
  sqliteError?(error: unknown): unknown;
  /** Repairs a statement whose execution failed, before it is released. */
  repair?(statement: S, values: readonly SqlValue[], error: unknown): void;
}

/** A handle with node:sqlite's `function(name, options, fn)`, which bun:sqlite has too. */
export interface FunctionRegistrar {
  /** Registers a scalar function; absent from older versions. */
  function?(
    name: string,
    options: { deterministic?: boolean; varargs?: boolean },
    fn: (...args: SqlValue[]) => SqlValue,
  ): void;
}

/**
 * The `function` of a binding whose handle registers as node:sqlite does: a TypeError naming
 * `adapter` when the handle has no `function()`.
 */
export function registerOn(
  adapter: string,
  db: FunctionRegistrar,
): (name: string, fn: SqlFunction, options: Required<SqlFunctionOptions>) => void {
  return (name, fn, options) => {
    if (typeof db.function !== "function") {
      throw new TypeError(`Cannot register function ${name}(): this ${adapter} has no function()`);
    }
    db.function(name, options, wrapSqlFunction(name, fn));
  };
}

/** `prepare` with what it throws for SQLite turned into a SqliteError. */
function mapPrepareErrors<S>(prepare: (sql: string) => S): (sql: string) => S {
  return (sql) => {
    try {
      return prepare(sql);
    } catch (error) {
      throw toSqliteError(error);
    }
  };
}

/** A {@linkcode SqliteDriver} over the statements of one {@linkcode StatementBinding}. */
export class StatementDriver<S> implements SqliteDriver {
  readonly name: string;
  readonly path: string;
  // `declare`: no own property unless the binding sets it, as `"function" in driver` tells.
  /** Present only when the binding declares it. */
  declare readonly reentrantFunctions?: boolean;
  /** Present only when the binding reads rows as arrays. */
  declare readonly values?: (sql: string, params?: readonly SqlValue[]) => SqlValue[][];
  /** Present only when the binding registers functions. */
  declare readonly function?: (name: string, fn: SqlFunction, options?: SqlFunctionOptions) => void;
  #binding: StatementBinding<S>;
  #cache: StatementCache<S>;
  #arrayCache: StatementCache<S>;
  #integersAsBigInt: boolean;
  #sqliteError: (error: unknown) => unknown;
  #closed = false;
  // The binding's functions, read once so the hot paths make no lookups on the binding.
  #run: StatementOp<S, RunResult>;
  #all: StatementOp<S, Row[]>;
  #get: StatementOp<S, Row | undefined>;
  #prepare: (sql: string) => S;

  /** Creates the driver; `binding` is the adapter's whole difference. */
  constructor(binding: StatementBinding<S>) {
    this.#binding = binding;
    this.name = binding.name;
    this.path = binding.path;
    if (binding.reentrantFunctions !== undefined) {
      this.reentrantFunctions = binding.reentrantFunctions;
    }
    this.#integersAsBigInt = binding.integersAsBigInt;
    this.#sqliteError = binding.sqliteError ?? toSqliteError;
    this.#run = binding.run;
    this.#all = binding.all;
    this.#get = binding.get;
    this.#prepare = mapPrepareErrors(binding.prepare);
    const capacity = binding.statementCacheSize ?? STATEMENT_CACHE_SIZE_DEFAULT;
    const finalize = binding.finalize;
    this.#cache = new StatementCache(capacity, finalize);
    this.#arrayCache = binding.prepareArrays ? new StatementCache(capacity, finalize) : this.#cache;
    const read = binding.values;
    if (read !== undefined) {
      const cache = this.#arrayCache;
      const prepare = binding.prepareArrays
        ? mapPrepareErrors(binding.prepareArrays)
        : this.#prepare;
      this.values = (sql, params) => this.#execute(cache, prepare, sql, params, "query", read);
    }
    if (binding.function) this.function = this.#register;
  }

  /** Runs `use` on the statement for `sql` from `cache`, reserved for this one execution. */
  #execute<R>(
    cache: StatementCache<S>,
    prepare: (sql: string) => S,
    sql: string,
    params: readonly SqlValue[] | undefined,
    action: string,
    use: StatementOp<S, R>,
  ): R {
    if (this.#closed) throw closedError(this.name, action);
    const values = checkParams(params, this.#integersAsBigInt);
    const lease = cache.acquire(sql, prepare);
    let failed = false;
    try {
      return use(lease.statement, values);
    } catch (error) {
      failed = true;
      this.#binding.repair?.(lease.statement, values, error);
      throw this.#sqliteError(error);
    } finally {
      if (failed && this.#binding.discardFailed) cache.discard(lease);
      else cache.release(lease);
    }
  }

  exec(sql: string): void {
    if (this.#closed) throw closedError(this.name, "exec");
    try {
      this.#binding.exec(sql);
    } catch (error) {
      throw this.#sqliteError(error);
    }
  }

  run(sql: string, params?: readonly SqlValue[]): RunResult {
    return this.#execute(this.#cache, this.#prepare, sql, params, "run", this.#run);
  }

  all<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): T[] {
    return this.#execute(this.#cache, this.#prepare, sql, params, "query", this.#all) as T[];
  }

  get<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): T | undefined {
    return this.#execute(this.#cache, this.#prepare, sql, params, "query", this.#get) as
      | T
      | undefined;
  }

  #register = (name: string, fn: SqlFunction, options: SqlFunctionOptions = {}): void => {
    if (this.#closed) throw closedError(this.name, `register function ${name}()`);
    const normalized = {
      deterministic: options.deterministic ?? false,
      varargs: options.varargs ?? false,
    };
    try {
      this.#binding.function!(name, fn, normalized);
    } catch (error) {
      throw this.#sqliteError(error);
    }
  };

  inTransaction(): boolean {
    if (this.#closed) throw closedError(this.name, "check for a transaction");
    return this.#binding.inTransaction();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#cache.clear();
    if (this.#arrayCache !== this.#cache) this.#arrayCache.clear();
    if (this.#binding.ownsHandle ?? true) this.#binding.close();
  }
}
