/**
 * The driver conformance suite: one call proves that a {@linkcode SqliteDriver} keeps every rule
 * of the contract in `core/db/driver.ts` (value round-trips, integer binding, the ±(2^53 − 1)
 * read limit, parameter rejection, the statement cache, errors as SqliteError with SQLite's
 * result code, SQL functions (re-entered too), rows read as arrays through `values()`, WAL, two
 * connections on one file, transactions and `close()`), and that honker-ts's own SQL runs on it:
 * every statement of the core, bound as the core binds it, and a round of its calls.
 *
 * It registers `node:test` tests, so the same file runs under `node --test`, `deno test` and
 * `bun test`. Every test uses its own temporary database file and closes what it opens.
 *
 * @example Prove a third-party adapter
 * ```ts ignore
 * import { driverConformance } from "honker-ts/testing";
 * import { openMyDriver } from "./my_driver.ts";
 *
 * driverConformance({ name: "my-driver", open: (path) => openMyDriver(path) });
 * ```
 *
 * @module
 */

import { describe, it } from "node:test";
import type { SqliteDriver } from "../core/db/driver.ts";
import { arrayTests } from "./_conformance_arrays.ts";
import { connectionTests } from "./_conformance_connections.ts";
import { coreSqlTests } from "./_conformance_core_sql.ts";
import { errorTests } from "./_conformance_errors.ts";
import { functionTests } from "./_conformance_functions.ts";
import type { KnownLimitation, Register } from "./_conformance_shared.ts";
import { withScratch } from "./_conformance_shared.ts";
import { statementTests } from "./_conformance_statements.ts";
import { valueTests } from "./_conformance_values.ts";

export type { KnownLimitation } from "./_conformance_shared.ts";
export type {
  Row,
  RunResult,
  SqlFunction,
  SqlFunctionOptions,
  SqliteDriver,
  SqlValue,
} from "../core/db/driver.ts";

/**
 * What {@linkcode driverConformance} needs to know about the adapter under test.
 *
 * @example Describe an adapter that cannot register SQL functions
 * ```ts ignore
 * import type { DriverConformanceOptions } from "honker-ts/testing";
 * import { openMyDriver } from "./my_driver.ts";
 *
 * const options: DriverConformanceOptions = {
 *   name: "my-driver",
 *   open: openMyDriver,
 *   supportsFunctions: false,
 * };
 * ```
 */
export interface DriverConformanceOptions {
  /** The adapter's name, shown in the suite title. */
  name: string;
  /** Opens a new connection to the database file at `path` (created if missing). */
  open(path: string): Promise<SqliteDriver> | SqliteDriver;
  /** When set, every test is registered as skipped with this reason. */
  skip?: string;
  /** Whether the adapter implements `function()`; the SQL function tests skip when false. Defaults to true. */
  supportsFunctions?: boolean;
  /**
   * Whether the adapter implements the optional `values()`; its tests skip when false, and fail
   * when the adapter claims it but has none. Defaults to true.
   */
  supportsValues?: boolean;
  /**
   * Rules the native binding cannot keep, each with the reason; their tests are registered as
   * skipped with that reason, so the gap stays visible in every run.
   * `"nul-in-text"`: text is cut at an embedded NUL when read.
   * `"read-min-int64"`: −2^63 reads back as a rounded number instead of a RangeError.
   * `"close-releases-file"`: `close()` does not close the file at once (the binding closes it
   * only when its statements are garbage-collected).
   */
  knownLimitations?: Partial<Record<KnownLimitation, string>>;
}

/**
 * Registers the conformance suite for one adapter as `describe("<name>: driver conformance")`.
 *
 * Call it at the top level of a test file. With `skip`, every test is still registered but
 * skipped with that reason, so a driver that cannot run on this runtime shows up in the counts
 * rather than passing silently.
 *
 * @param options The adapter's name, how to open it, and what it supports.
 *
 * @example Run the suite for the node:sqlite adapter
 * ```ts ignore
 * import { driverConformance } from "honker-ts/testing";
 * import { openNodeSqlite } from "honker-ts/adapters/node-sqlite";
 *
 * driverConformance({ name: "node-sqlite", open: (path) => openNodeSqlite(path) });
 * ```
 */
export function driverConformance(options: DriverConformanceOptions): void {
  const open = (path: string) => options.open(path);
  const functionsSkip = options.supportsFunctions === false
    ? `${options.name} does not support function()`
    : undefined;
  const valuesSkip = options.supportsValues === false
    ? `${options.name} does not implement the optional values()`
    : undefined;
  describe(`${options.name}: driver conformance`, () => {
    const register: Register = (name, body, needs = {}) => {
      const known = needs.limitation && options.knownLimitations?.[needs.limitation];
      const reason = options.skip ?? (needs.needsFunctions ? functionsSkip : undefined) ??
        (needs.needsValues ? valuesSkip : undefined) ??
        (known ? `known limitation of ${options.name}: ${known}` : undefined);
      if (reason !== undefined) it(name, { skip: reason }, () => {});
      else {
        it(name, (t) =>
          withScratch(open, (db, scratch) => {
            // Known only once a connection is open: the driver itself declares it.
            if (needs.needsReentrantFunctions && db.reentrantFunctions === false) {
              return t.skip(`${options.name} declares reentrantFunctions: false`);
            }
            return body(db, scratch);
          }));
      }
    };
    valueTests(register);
    statementTests(register);
    functionTests(register);
    arrayTests(register);
    connectionTests(register);
    errorTests(register);
    coreSqlTests(register);
  });
}
