/**
 * Postgres-style notify/listen on `_honker_notifications`: transactional sends, and
 * listeners that see only what was committed after they attached, in order, per channel.
 *
 * @module
 */

import type { DatabaseContext } from "../db/context.ts";
import { abortableIterator } from "../wait/abortable.ts";
import type { SqliteDriver } from "../db/driver.ts";
import { parseJson, toJsonText } from "../db/json.ts";
import {
  NOTIFICATION_INSERT,
  NOTIFICATION_LAST_ID,
  NOTIFICATION_PRUNE,
  NOTIFICATION_READ_SINCE,
} from "./sql.ts";
import { requireSchema, validateForRead } from "../db/standard_schema.ts";
import type { StandardSchemaV1 } from "../db/standard_schema.ts";
import type { Transaction } from "../db/transaction.ts";
import { requireInteger, requireName, requireOptions, requireSeconds } from "../db/validate.ts";
import { idlePollMs, SLEEP_CAP_MS, waitLoop } from "../wait/wait_loop.ts";

/** A notification as a listener receives it. */
export interface Notification<T = unknown> {
  /** Its id; ids only grow. */
  id: number;
  /** The channel it was sent on. */
  channel: string;
  /** The decoded payload. */
  payload: T;
  /** Unix seconds it was sent. */
  createdAt: number;
}

/**
 * Options for `db.listen()`.
 *
 * @typeParam T The payload type notifications carry: the schema's output.
 */
export interface ListenOptions<T = unknown> {
  /** Ends the iteration. */
  signal?: AbortSignal;
  /**
   * Milliseconds between reads when no wake arrives (at least 1); null waits for wakes only.
   * Defaults to 5000.
   */
  idlePollMs?: number | null;
  /**
   * A Standard Schema validator (zod, valibot, arktype …) each payload is checked against; the
   * listener hands out the schema's output. A payload that does not match ends the iteration
   * with a TypeError naming the notification's id. Must be synchronous.
   */
  schema?: StandardSchemaV1<unknown, T>;
}

/** Every key of `ListenOptions`. */
export const LISTEN_OPTION_KEYS: readonly (keyof ListenOptions)[] = [
  "signal",
  "idlePollMs",
  "schema",
];

/** Options for `db.pruneNotifications()`; with neither, nothing is deleted. */
export interface PruneNotificationsOptions {
  /** Delete notifications sent at least this many seconds ago. */
  olderThanS?: number;
  /** Delete all but the newest `maxKeep` notifications (0 deletes all). */
  maxKeep?: number;
}

const LISTEN_BATCH = 1000;

/** The SQL function and `db.notify()`: insert one notification, return its id. */
export function insertNotification(driver: SqliteDriver, channel: string, payload: string): number {
  return driver.run(NOTIFICATION_INSERT, [channel, payload]).lastInsertRowid;
}

/** Sends a notification (JSON payload); see `Database.notify()`. */
export function notify(
  ctx: DatabaseContext,
  channel: string,
  payload: unknown,
  options?: { tx?: Transaction },
): number {
  const action = `notify channel ${JSON.stringify(channel)}`;
  requireName(channel, "the channel", action);
  const opts = requireOptions(options, action, ["tx"]);
  const text = toJsonText(payload, action);
  const id = insertNotification(ctx.joinTx(opts.tx, action), channel, text);
  ctx.wrote();
  return id;
}

interface NotificationRow {
  [column: string]: string | number;
  id: number;
  channel: string;
  payload: string;
  created_at: number;
}

/** Decodes a row, validating its payload when there is a schema. */
function toNotification<T>(
  row: NotificationRow,
  schema: StandardSchemaV1 | undefined,
  action: string,
): Notification<T> {
  let payload = parseJson<unknown>(row.payload);
  if (schema !== undefined) {
    payload = validateForRead(schema, payload, `the notification ${row.id}`, action);
  }
  return { id: row.id, channel: row.channel, payload: payload as T, createdAt: row.created_at };
}

/** Listens on a channel; see `Database.listen()`. */
export function listen<T>(
  ctx: DatabaseContext,
  channel: string,
  options?: ListenOptions<T>,
): AsyncIterableIterator<Notification<T>> {
  const action = `listen on channel ${JSON.stringify(channel)}`;
  requireName(channel, "the channel", action);
  const opts = requireOptions(options, action, LISTEN_OPTION_KEYS);
  const idleMs = Math.min(idlePollMs(opts.idlePollMs, action), SLEEP_CAP_MS);
  const schema = opts.schema === undefined ? undefined : requireSchema(opts.schema, action);
  const driver = ctx.open(action);
  let lastId = driver.get<{ id: number }>(NOTIFICATION_LAST_ID, [channel])?.id ?? 0;
  let buffer: NotificationRow[] = [];
  return abortableIterator<Notification<T>>(async (signal) => {
    if (buffer.length === 0) {
      const rows = await waitLoop(ctx.waker, () => {
        const found = ctx.open(action).all<NotificationRow>(NOTIFICATION_READ_SINCE, [
          channel,
          lastId,
          LISTEN_BATCH,
        ]);
        return found.length > 0 ? found : undefined;
      }, { signal, sleepMs: () => idleMs });
      if (rows === undefined) return undefined;
      buffer = rows;
    }
    // Decoded one at a time: those before a payload the schema refuses are still delivered.
    const row = buffer.shift() as NotificationRow;
    lastId = row.id;
    return toNotification<T>(row, schema, action);
  }, { signal: opts.signal });
}

/**
 * Checks pruning options (`pruneNotifications()`, `open()`'s `notificationRetention`) and
 * returns them with null for "not given".
 */
export function pruneRules(
  options: PruneNotificationsOptions | undefined,
  action: string,
): { olderThanS: number | null; maxKeep: number | null } {
  const opts = requireOptions(options, action, ["olderThanS", "maxKeep"]);
  return {
    olderThanS: opts.olderThanS === undefined
      ? null
      : requireSeconds(opts.olderThanS, "olderThanS", action),
    maxKeep: opts.maxKeep === undefined ? null : requireInteger(opts.maxKeep, "maxKeep", action, 0),
  };
}

/** Deletes old notifications with honker's semantics; returns how many. */
export function pruneNotifications(
  ctx: DatabaseContext,
  options?: PruneNotificationsOptions,
): number {
  const action = "prune notifications";
  const { olderThanS, maxKeep } = pruneRules(options, action);
  if (olderThanS === null && maxKeep === null) return 0;
  const driver = ctx.open(action);
  // One statement under BEGIN IMMEDIATE, so it sees every row committed before it (honker #81).
  return ctx.transactions.atomic(() =>
    driver.run(NOTIFICATION_PRUNE, [olderThanS, olderThanS, maxKeep, maxKeep]).changes
  );
}
