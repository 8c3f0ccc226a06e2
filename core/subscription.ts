/**
 * A named consumer's at-least-once walk through a stream (spec §4.4, Python's guarantee): the
 * offset of an event is saved only once the consumer asks for the next one, so a crash
 * re-delivers at most the unsaved events and never skips one.
 *
 * @module
 */

import type { DatabaseContext } from "./_context.ts";
import { abortableIterator } from "./_abortable.ts";
import { idlePollMs, SLEEP_CAP_MS } from "./claim.ts";
import { WatcherDiedError } from "./errors.ts";
import type { Stream, StreamEvent } from "./stream.ts";
import { getConsumerOffset, saveConsumerOffset } from "./stream_ops.ts";
import {
  requireCount,
  requireInteger,
  requireName,
  requireOptions,
  requireSeconds,
} from "./validate.ts";

/** Options for `stream.subscribe()`. */
export interface SubscribeOptions {
  /** Start after this offset instead of the saved one. */
  fromOffset?: number;
  /** Events read per query. Defaults to 256. */
  batchSize?: number;
  /** Save after this many handled events. Defaults to 1000; 0 turns count saves off. */
  saveEveryN?: number;
  /** Save when this many seconds passed since the last save. Defaults to 1; 0 turns it off. */
  saveEveryS?: number;
  /** Seconds between reads when no wake arrives; null waits for wakes only. Defaults to 5. */
  idlePollS?: number | null;
  /** Ends the iteration (saving the last handled event). */
  signal?: AbortSignal;
}

/** Walks `stream` for `consumer`; see `Stream.subscribe()`. */
export function subscribe<T>(
  stream: Stream<T>,
  ctx: DatabaseContext,
  consumer: string,
  options?: SubscribeOptions,
): AsyncIterableIterator<StreamEvent<T>> {
  const action = `subscribe to stream ${JSON.stringify(stream.topic)}`;
  requireName(consumer, "the consumer name", action);
  const opts = requireOptions(options, action);
  const batchSize = requireCount(opts.batchSize ?? 256, "batchSize", action);
  const saveEveryN = requireInteger(opts.saveEveryN ?? 1000, "saveEveryN", action, 0);
  const saveEveryMs = requireSeconds(opts.saveEveryS ?? 1, "saveEveryS", action) * 1000;
  const idleMs = Math.min(idlePollMs(opts.idlePollS, action), SLEEP_CAP_MS);
  const driver = ctx.open(action);
  const saving = saveEveryN > 0 || saveEveryMs > 0;
  let position = opts.fromOffset === undefined
    ? getConsumerOffset(driver, consumer, stream.topic)
    : requireInteger(opts.fromOffset, "fromOffset", action, 0);
  let saved = position;
  let handled = position;
  let delivered: number | undefined;
  let handledSinceSave = 0;
  let lastSaveAt = Date.now();
  let buffer: StreamEvent<T>[] = [];
  let next = 0;

  const save = () => {
    if (!saving || handled <= saved || ctx.waker.closed) return;
    saveConsumerOffset(ctx.open(action), consumer, stream.topic, handled);
    saved = handled;
    handledSinceSave = 0;
    lastSaveAt = Date.now();
  };
  const markHandled = () => {
    if (delivered === undefined) return;
    handled = delivered;
    delivered = undefined;
    handledSinceSave++;
    if (
      (saveEveryN > 0 && handledSinceSave >= saveEveryN) ||
      (saveEveryMs > 0 && Date.now() - lastSaveAt >= saveEveryMs)
    ) save();
  };

  /** Reads the next page, sleeping until there is one; false when stopped. */
  const refill = async (signal: AbortSignal): Promise<boolean> => {
    while (!signal.aborted && !ctx.waker.closed) {
      const since = ctx.waker.seq;
      buffer = stream.read(position, batchSize);
      next = 0;
      if (buffer.length > 0) return true;
      save(); // Caught up: persist what was handled before sleeping.
      try {
        if (await ctx.waker.wait({ timeoutMs: idleMs, signal, since }) === "abort") return false;
      } catch (error) {
        if (!(error instanceof WatcherDiedError)) throw error;
      }
    }
    return false;
  };
  const take = (): StreamEvent<T> => {
    const event = buffer[next++];
    position = event.offset;
    delivered = event.offset;
    return event;
  };

  return abortableIterator<StreamEvent<T>>((signal) => {
    markHandled();
    // The hot path of a replay: the next event is already in hand, so no promise is awaited.
    if (next < buffer.length && !signal.aborted && !ctx.waker.closed) return take();
    return refill(signal).then((ok) => ok ? take() : undefined);
  }, {
    signal: opts.signal,
    // Leaving the loop (break, return(), abort) counts the event in hand as handled.
    onFinish: () => {
      markHandled();
      save();
    },
  });
}
