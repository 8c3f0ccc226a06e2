/**
 * A named consumer's at-least-once walk through a stream (honker's Python guarantee):
 * an event counts as handled only once the consumer asks for the next one or commits it, so a
 * crash, a throw in the loop's body or a `break` re-delivers the event in hand and never skips
 * one. (honker's Node and Bun bindings count a delivered event as consumed instead.)
 *
 * @module
 */

import type { DatabaseContext } from "../db/context.ts";
import { abortableIterator } from "../wait/abortable.ts";
import { isTransientSqliteError } from "../db/errors.ts";
import type { SqliteDriver } from "../db/driver.ts";
import type { ReadEvents } from "./read.ts";
import type { StreamEvent } from "./types.ts";
import { getConsumerOffset, saveConsumerOffset } from "./ops.ts";
import {
  requireCount,
  requireInteger,
  requireName,
  requireOptions,
  requireTimerMs,
} from "../db/validate.ts";
import { idlePollMs, SLEEP_CAP_MS, waitLoop } from "../wait/wait_loop.ts";

/** Options for `stream.subscribe()`. */
export interface SubscribeOptions {
  /** Start after this offset instead of the saved one. */
  fromOffset?: number;
  /** Events read per query. Defaults to 256. */
  batchSize?: number;
  /** Save after this many handled events. Defaults to 1000; 0 turns count saves off. */
  saveEveryN?: number;
  /**
   * Save when this many milliseconds passed since the last save. Defaults to 1000; 0 turns
   * time saves off.
   */
  saveEveryMs?: number;
  /**
   * Milliseconds between reads when no wake arrives (at least 1); null waits for wakes only.
   * Defaults to 5000.
   */
  idlePollMs?: number | null;
  /** Ends the iteration (saving the events handled before the one in hand). */
  signal?: AbortSignal;
}

/**
 * The keys `subscribe()` accepts. `saveEveryMs` comes before `saveEveryN`: the old `saveEveryS`
 * is one edit from both, and the first wins the suggestion.
 */
export const SUBSCRIBE_OPTION_KEYS: readonly (keyof SubscribeOptions)[] = [
  "fromOffset",
  "batchSize",
  "saveEveryMs",
  "saveEveryN",
  "idlePollMs",
  "signal",
];

/**
 * A consumer's walk through a stream: an async iterator of events that also commits.
 *
 * An event counts as handled only when the loop asks for the next one, or when `commit()` is
 * called: leaving the loop (`break`, `return()`, a throw in its body, abort) saves only the events
 * handled before the one in hand, which is delivered again next time.
 */
export interface Subscription<T> extends AsyncIterableIterator<StreamEvent<T>> {
  /**
   * Counts the event in hand (the last one yielded) as handled and saves the consumer's offset
   * now, whatever `saveEveryN`/`saveEveryMs` say. Call it before leaving the loop after finishing
   * an event, or to make progress durable at a point of your choosing.
   */
  commit(): void;
}

/** What a subscription needs of its stream. */
export interface SubscriptionSource<T> {
  readonly topic: string;
  /** Reads up to `limit` events after `offset` (validated and decoded). */
  readonly read: ReadEvents<T>;
}

/** What a subscription's options come to, checked. */
interface WalkSettings {
  batchSize: number;
  saveEveryN: number;
  saveEveryMs: number;
  idleMs: number;
  /** Whether background saves happen at all (saveEveryN or saveEveryMs above 0). */
  saving: boolean;
}

function walkSettings(opts: SubscribeOptions, action: string): WalkSettings {
  const saveEveryN = requireInteger(opts.saveEveryN ?? 1000, "saveEveryN", action, 0);
  const saveEveryMs = requireTimerMs(opts.saveEveryMs ?? 1000, "saveEveryMs", action, true);
  return {
    batchSize: requireCount(opts.batchSize ?? 256, "batchSize", action),
    saveEveryN,
    saveEveryMs,
    idleMs: Math.min(idlePollMs(opts.idlePollMs, action), SLEEP_CAP_MS),
    saving: saveEveryN > 0 || saveEveryMs > 0,
  };
}

/** A consumer's progress: the event in hand, the last handled, the last saved. */
interface Progress {
  /** The event just yielded: handled once the next is asked for, or on `commit()`. */
  deliver(offset: number): void;
  /** Counts the event in hand as handled, saving in the background when a threshold is met. */
  markHandled(): void;
  /** Saves the handled offset; a background save meeting a busy database waits for the next. */
  save(background: boolean): void;
}

function progress(
  ctx: DatabaseContext,
  where: { consumer: string; topic: string; action: string },
  start: number,
  settings: WalkSettings,
): Progress {
  const { consumer, topic, action } = where;
  const { saveEveryN, saveEveryMs, saving } = settings;
  let saved = start;
  let handled = start;
  let delivered: number | undefined;
  let handledSinceSave = 0;
  let lastSaveAt = Date.now();
  const save = (background: boolean) => {
    if (handled <= saved || ctx.waker.closed) return;
    try {
      const write = (db: SqliteDriver) => saveConsumerOffset(db, consumer, topic, handled);
      ctx.write(action, write, background);
    } catch (error) {
      if (background && isTransientSqliteError(error)) return; // at-least-once: saved later
      throw error;
    }
    saved = handled;
    handledSinceSave = 0;
    lastSaveAt = Date.now();
  };
  return {
    deliver: (offset) => delivered = offset,
    markHandled: () => {
      if (delivered === undefined) return;
      handled = delivered;
      delivered = undefined;
      handledSinceSave++;
      if (
        saving && ((saveEveryN > 0 && handledSinceSave >= saveEveryN) ||
          (saveEveryMs > 0 && Date.now() - lastSaveAt >= saveEveryMs))
      ) save(true);
    },
    save,
  };
}

/**
 * The iterator's step: the next event, from the page in hand or, once it is used up, from the
 * next page read (sleeping until there is one); undefined when stopped. Each call first counts
 * the event handed out before as handled.
 */
function eventFeed<T>(
  stream: SubscriptionSource<T>,
  ctx: DatabaseContext,
  walk: Progress,
  settings: WalkSettings,
  start: number,
): (signal: AbortSignal) => StreamEvent<T> | undefined | Promise<StreamEvent<T> | undefined> {
  let position = start;
  let buffer: StreamEvent<T>[] = [];
  let next = 0;
  const refill = async (signal: AbortSignal): Promise<boolean> => {
    const page = await waitLoop(ctx.waker, () => {
      const events = stream.read(position, settings.batchSize);
      if (events.length > 0) return events;
      if (settings.saving) walk.save(true); // Caught up: persist what was handled before sleeping.
      return undefined;
    }, { signal, sleepMs: () => settings.idleMs });
    if (page === undefined) return false;
    buffer = page;
    next = 0;
    return true;
  };
  const take = (): StreamEvent<T> => {
    const event = buffer[next++];
    position = event.offset;
    walk.deliver(event.offset);
    return event;
  };
  return (signal) => {
    walk.markHandled();
    // The hot path of a replay: the next event is already in hand, so no promise is awaited.
    if (next < buffer.length && !signal.aborted && !ctx.waker.closed) return take();
    return refill(signal).then((ok) => ok ? take() : undefined);
  };
}

/** Walks `stream` for `consumer`; see `Stream.subscribe()`. */
export function subscribe<T>(
  stream: SubscriptionSource<T>,
  ctx: DatabaseContext,
  consumer: string,
  options?: SubscribeOptions,
): Subscription<T> {
  const action = `subscribe to stream ${JSON.stringify(stream.topic)}`;
  requireName(consumer, "the consumer name", action);
  const opts = requireOptions(options, action, SUBSCRIBE_OPTION_KEYS);
  const settings = walkSettings(opts, action);
  const driver = ctx.open(action);
  const start = opts.fromOffset === undefined
    ? getConsumerOffset(driver, consumer, stream.topic)
    : requireInteger(opts.fromOffset, "fromOffset", action, 0);
  const walk = progress(ctx, { consumer, topic: stream.topic, action }, start, settings);
  const iterator = abortableIterator<StreamEvent<T>>(
    eventFeed(stream, ctx, walk, settings, start),
    {
      signal: opts.signal,
      // Leaving the loop saves what was handled before; the event in hand is delivered again.
      onFinish: () => {
        if (settings.saving) walk.save(true);
      },
    },
  );
  return Object.assign(iterator, {
    commit(): void {
      ctx.open(`commit the offset of consumer ${JSON.stringify(consumer)} on ${action}`);
      walk.markHandled();
      walk.save(false);
    },
  });
}
