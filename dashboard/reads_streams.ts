/**
 * What the stream, schedule, lock and notification views show, read with plain SQL from
 * `dashboard/sql.ts` (read-only; a table the file lacks reads as empty).
 *
 * @module
 */

import type { SqliteDriver } from "../core/db/driver.ts";
import * as SQL from "./sql.ts";
import { count, COUNT_CAP, skipScan } from "./reads.ts";
import type { Snapshot } from "./reads.ts";

type Row = Record<string, string | number | null>;

/** A consumer of a stream, with its lag. */
export interface ConsumerView {
  name: string;
  offset: number;
  lag: number;
  /** True when the lag is above COUNT_CAP and estimated from offsets (an upper bound). */
  lagEstimated: boolean;
}

/** One stream. */
export interface StreamSummary {
  topic: string;
  firstOffset: number | null;
  lastOffset: number | null;
  consumers: ConsumerView[];
}

function lagOf(
  snap: Snapshot,
  topic: string,
  offset: number,
  last: number | null,
): [lag: number, estimated: boolean] {
  const counted = Number(
    count(snap.driver, SQL.STREAM_COUNT_AFTER, [topic, offset, COUNT_CAP + 1]).n ?? 0,
  );
  if (counted <= COUNT_CAP) return [counted, false];
  return [Math.max(0, (last ?? offset) - offset), true];
}

/** Every stream topic (with events or consumers), with its consumers and their lag. */
export function streamSummaries(snap: Snapshot): StreamSummary[] {
  const { driver, tables } = snap;
  if (!tables.has("_honker_stream")) return [];
  const streams = new Map<string, StreamSummary>();
  for (const topic of skipScan(driver, SQL.STREAM_TOPIC_NEXT, "topic")) {
    const range = count(driver, SQL.STREAM_RANGE, [topic, topic]);
    streams.set(topic, {
      topic,
      firstOffset: range.first === null ? null : Number(range.first),
      lastOffset: range.last === null ? null : Number(range.last),
      consumers: [],
    });
  }
  if (!tables.has("_honker_stream_consumers")) return [...streams.values()];
  for (const row of driver.all<Row>(SQL.STREAM_CONSUMERS_ALL)) {
    const topic = String(row.topic);
    let stream = streams.get(topic);
    if (!stream) {
      stream = { topic, firstOffset: null, lastOffset: null, consumers: [] };
      streams.set(topic, stream);
    }
    const offset = Number(row.offset);
    const [lag, lagEstimated] = lagOf(snap, topic, offset, stream.lastOffset);
    stream.consumers.push({ name: String(row.name), offset, lag, lagEstimated });
  }
  return [...streams.values()].sort((a, b) => a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0);
}

/** One stored stream event, payload as stored. */
export interface StreamEventView {
  offset: number;
  key: string | null;
  payload: string;
  createdAt: number;
}

/** A topic's newest events before an offset, newest first. */
export function recentEvents(
  snap: Snapshot,
  topic: string,
  before: number,
  limit: number,
): StreamEventView[] {
  if (!snap.tables.has("_honker_stream")) return [];
  return snap.driver.all<Row>(SQL.STREAM_RECENT, [topic, before, limit]).map((r) => ({
    offset: Number(r.offset),
    key: r.key === null ? null : String(r.key),
    payload: String(r.payload),
    createdAt: Number(r.created_at),
  }));
}

/** One schedule. */
export interface ScheduleView {
  name: string;
  queue: string;
  schedule: string;
  payload: string;
  priority: number;
  nextFireAt: number;
  enabled: boolean;
}

/** Every schedule (honker's and honker-ts's tables), by name. */
export function scheduleList(snap: Snapshot): ScheduleView[] {
  if (!snap.tables.has("_honker_scheduler_tasks")) return [];
  const rows = snap.driver.all<Row>(SQL.SCHEDULES);
  if (snap.tables.has("_honker_ts_scheduler_tasks")) {
    rows.push(...snap.driver.all<Row>(SQL.SCHEDULES_TS));
    rows.sort((a, b) => String(a.name) < String(b.name) ? -1 : 1);
  }
  return rows.map((r) => ({
    name: String(r.name),
    queue: String(r.queue),
    schedule: String(r.cron_expr),
    payload: String(r.payload),
    priority: Number(r.priority),
    nextFireAt: Number(r.next_fire_at),
    enabled: r.enabled === undefined || Number(r.enabled) !== 0,
  }));
}

/** A lock held now. */
export interface LockView {
  name: string;
  owner: string;
  expiresAt: number;
}

/** The locks held now (expired rows left out). */
export function locksHeld(snap: Snapshot): LockView[] {
  if (!snap.tables.has("_honker_locks")) return [];
  return snap.driver.all<Row>(SQL.LOCKS_HELD, [snap.now]).map((r) => ({
    name: String(r.name),
    owner: String(r.owner),
    expiresAt: Number(r.expires_at),
  }));
}

/** Channels that have notifications stored. */
export function channels(snap: Snapshot): string[] {
  if (!snap.tables.has("_honker_notifications")) return [];
  return skipScan(snap.driver, SQL.CHANNEL_NEXT, "channel");
}

/** One notification, payload as stored. */
export interface NotificationView {
  id: number;
  payload: string;
  createdAt: number;
}

function notificationView(r: Row): NotificationView {
  return { id: Number(r.id), payload: String(r.payload), createdAt: Number(r.created_at) };
}

/** A channel's newest notifications, newest first. */
export function recentNotifications(
  snap: Snapshot,
  channel: string,
  limit: number,
): NotificationView[] {
  if (!snap.tables.has("_honker_notifications")) return [];
  return snap.driver.all<Row>(SQL.CHANNEL_RECENT, [channel, limit]).map(notificationView);
}

/** Whether the file has honker's notifications table (honker creates it with notify()). */
function hasNotifications(driver: SqliteDriver): boolean {
  return driver.get<Row>(SQL.TABLE_EXISTS, ["_honker_notifications"]) !== undefined;
}

/** A channel's notifications after an id, oldest first (none while the file has no table). */
export function notificationsAfter(
  driver: SqliteDriver,
  channel: string,
  afterId: number,
  limit: number,
): NotificationView[] {
  if (!hasNotifications(driver)) return [];
  return driver.all<Row>(SQL.CHANNEL_AFTER, [channel, afterId, limit]).map(notificationView);
}

/** A channel's newest id, or 0. */
export function channelLastId(driver: SqliteDriver, channel: string): number {
  if (!hasNotifications(driver)) return 0;
  return Number(driver.get<Row>(SQL.CHANNEL_LAST_ID, [channel])?.id ?? 0);
}
