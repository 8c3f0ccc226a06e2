/**
 * Job results (`db.saveResult()`, `db.getResult()`, `db.sweepResults()`, and honker's
 * `honker_result_*` SQL functions): a JSON value stored under a job id in honker's
 * `_honker_results`, with an expiry.
 *
 * Results are keyed by job id alone (honker's table has no queue column): job ids are unique
 * across every queue of the file, so results cannot collide, and a result is usually saved once
 * its job is gone, when its queue could no longer be checked. So they belong to the database,
 * not to a queue handle, and sweeping them sweeps every queue's.
 *
 * @module
 */

import type { DatabaseContext } from "../db/context.ts";
import type { SqliteDriver } from "../db/driver.ts";
import { parseJson, toJsonText } from "../db/json.ts";
import { requireSchema, validateForRead } from "../db/standard_schema.ts";
import type { StandardSchemaV1 } from "../db/standard_schema.ts";
import type { Transaction } from "../db/transaction.ts";
import { requireId, requireOptions, requireSeconds } from "../db/validate.ts";
import { RESULT_GET, RESULT_SWEEP, RESULT_UPSERT } from "./sql.ts";

/** Options for `db.saveResult()`. */
export interface SaveResultOptions {
  /**
   * Seconds until the result expires; 0 keeps it forever, as in honker. Defaults to the
   * database's `retention.resultsS` (7 days unless changed; forever with `retention: false`).
   */
  ttlS?: number;
  /** Commit together with this open transaction. */
  tx?: Transaction;
}

/** Every key of `SaveResultOptions`. */
export const SAVE_RESULT_OPTION_KEYS: readonly (keyof SaveResultOptions)[] = ["ttlS", "tx"];

/**
 * Options for `db.getResult()`.
 *
 * @typeParam R The result type: the schema's output.
 */
export interface GetResultOptions<R = unknown> {
  /**
   * A Standard Schema validator (zod, valibot, arktype …) the stored value is checked against;
   * `getResult()` then returns the schema's output. Must be synchronous.
   */
  schema?: StandardSchemaV1<unknown, R>;
}

/** Every key of `GetResultOptions`. */
export const GET_RESULT_OPTION_KEYS: readonly (keyof GetResultOptions)[] = ["schema"];

/** `honker_result_save`: upserts the text `value`; a `ttlS` of 0 never expires. Returns 1. */
export function upsertResult(
  driver: SqliteDriver,
  jobId: number,
  value: string,
  ttlS: number,
): number {
  driver.run(RESULT_UPSERT, [jobId, value, ttlS, ttlS]);
  return 1;
}

/** `honker_result_get`: the stored text, or null when absent or expired. */
export function readResult(driver: SqliteDriver, jobId: number): string | null {
  return driver.get<{ value: string | null }>(RESULT_GET, [jobId])?.value ?? null;
}

/** `honker_result_sweep`: deletes expired results. Returns how many. */
export function deleteExpiredResults(driver: SqliteDriver): number {
  return driver.run(RESULT_SWEEP).changes;
}

/** Stores `value` as JSON under `jobId` (upsert); `defaultTtlS` applies without `ttlS`. */
export function saveResult(
  ctx: DatabaseContext,
  jobId: number,
  value: unknown,
  options: SaveResultOptions | undefined,
  defaultTtlS: number,
): void {
  const action = "save a result";
  requireId(jobId, "jobId", action);
  const opts = requireOptions(options, action, SAVE_RESULT_OPTION_KEYS);
  const ttlS = requireSeconds(opts.ttlS ?? defaultTtlS, "ttlS", action);
  const text = toJsonText(value, action);
  upsertResult(ctx.joinTx(opts.tx, action), jobId, text, ttlS);
  ctx.wrote();
}

/**
 * Reads the result saved under `jobId`, checked against `options.schema` when given; undefined
 * when absent or expired.
 */
export function getResult(
  ctx: DatabaseContext,
  jobId: number,
  options: GetResultOptions | undefined,
): unknown {
  const action = "get a result";
  requireId(jobId, "jobId", action);
  const { schema } = requireOptions(options, action, GET_RESULT_OPTION_KEYS);
  if (schema !== undefined) requireSchema(schema, action);
  const text = readResult(ctx.open(action), jobId);
  if (text === null) return undefined;
  const value = parseJson<unknown>(text);
  return schema === undefined
    ? value
    : validateForRead(schema, value, `the result of job ${jobId}`, action);
}

/** Deletes expired results of every queue. Returns how many. */
export function sweepResults(ctx: DatabaseContext): number {
  return deleteExpiredResults(ctx.open("sweep results"));
}
