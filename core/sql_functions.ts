/**
 * honker's SQL functions, registered on our own connection so that SQL (and triggers) written
 * for honker's extension runs unchanged: same names, argument order and return shapes. Each
 * feature keeps its functions in its folder (`queue/sql_functions.ts`, …), each calling the
 * operation the TypeScript API calls; this file registers them all.
 *
 * @module
 */

import type { SqlFunction, SqliteDriver } from "./db/driver.ts";
import { lockFunctions } from "./lock/sql_functions.ts";
import { schedulerFunctions } from "./scheduler/sql_functions.ts";
import { streamFunctions } from "./stream/sql_functions.ts";
import { queueFunctions } from "./queue/sql_functions.ts";

/** Fixes a function's `length`, which bindings read as the SQL arity. */
function withArity(arity: number, fn: SqlFunction): SqlFunction {
  Object.defineProperty(fn, "length", { value: arity });
  return fn;
}

/**
 * Why honker's SQL functions cannot live on `driver`'s connection (they run SQL), or undefined
 * when they can.
 */
export function sqlFunctionsUnsupported(driver: SqliteDriver): string | undefined {
  if (typeof driver.function !== "function") {
    return `the ${driver.name} driver cannot register SQL functions`;
  }
  if (driver.reentrantFunctions === false) {
    return `${driver.name} cannot run queries inside a SQL function, which honker's functions do`;
  }
  return undefined;
}

/**
 * Registers honker's SQL functions (queue, results, streams, `notify`) on the driver's
 * connection.
 *
 * @returns false when the driver cannot register functions, or its functions cannot run SQL
 * (bun:sqlite; on Bun, use the node-sqlite driver to get the SQL functions).
 */
export function registerSqlFunctions(driver: SqliteDriver): boolean {
  if (sqlFunctionsUnsupported(driver) !== undefined || !driver.function) return false;
  const functions = {
    ...queueFunctions(driver),
    ...streamFunctions(driver),
    ...lockFunctions(driver),
    ...schedulerFunctions(driver),
  };
  for (const [name, [arity, fn]] of Object.entries(functions)) {
    if (arity < 0) driver.function(name, fn, { varargs: true });
    else driver.function(name, withArity(arity, fn));
  }
  return true;
}
