/**
 * JetStream → inbox: a durable pull consumer whose messages are applied to the file exactly once.
 * The messages that arrive together are applied in one SQLite transaction, each with its inbox
 * record (`applyOnce`), and acknowledged to JetStream only after the commit: a redelivery, a
 * reordering, or an acknowledgement JetStream lost track of finds the record and changes nothing.
 *
 * @module
 */

import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import type { NatsConnectionLike } from "./connection.ts";
import { natsConnection } from "./connection.ts";
import type { Database } from "../../mod.ts";
import { DatabaseClosedError } from "../../mod.ts";
import { requireOptions } from "../../core/db/validate.ts";
import { applyOnce, ensureInbox } from "../inbox.ts";
import { RateMeter } from "../rate.ts";
import { retryUntilDone } from "../retry.ts";
import { sleep } from "../../core/wait/sleep.ts";
import { pruneInbox } from "../inbox_retention.ts";
import { toInboxMessage } from "./jetstream_inbox_message.ts";
import { checkJetStreamInboxOptions } from "./jetstream_inbox_options.ts";
import type {
  CheckedJetStreamInboxOptions,
  JetStreamInboxOptions,
} from "./jetstream_inbox_options.ts";

/** Milliseconds between two prunes of the inbox's records while `run()` runs. */
export const INBOX_PRUNE_EVERY_MS = 60_000;

/** What `JetStreamInbox.stats()` reports. */
export interface InboxStats {
  /** Messages applied by this inbox since it was made. */
  applied: number;
  /** Messages delivered again and skipped, already applied. */
  duplicates: number;
  /** Messages applied per second over the last five seconds. */
  appliedPerS: number;
  /** Records of applied messages deleted by the retention since this inbox was made. */
  pruned: number;
  /** The last failure's message, if any. */
  lastError: string | undefined;
}

/**
 * Consumes a JetStream stream into the file, each message applied exactly once.
 *
 * @example Events from host A into a local stream on host B
 * ```ts ignore
 * const inbox = new JetStreamInbox(db, nc, {
 *   stream: "ORDERS",
 *   consumer: "host-b",
 *   apply: (message, tx) => db.stream("orders").publish(message.payload, { tx }),
 * });
 * await inbox.run({ signal });
 * ```
 */
export class JetStreamInbox {
  #db: Database;
  #nc: NatsConnection;
  #js: JetStreamClient;
  #opts: CheckedJetStreamInboxOptions;
  #rate = new RateMeter();
  #duplicates = 0;
  #pruned = 0;
  #lastError: string | undefined;

  /** Checks the options; nothing is written or consumed until `run()`. */
  constructor(db: Database, connection: NatsConnectionLike, options: JetStreamInboxOptions) {
    this.#opts = checkJetStreamInboxOptions(options, "make a JetStream inbox");
    this.#db = db;
    this.#nc = natsConnection(connection);
    this.#js = jetstream(this.#nc);
  }

  /**
   * Consumes until `signal` aborts or the database closes, retrying every failure.
   *
   * @example Stop on shutdown
   * ```ts ignore
   * const stop = new AbortController();
   * const running = inbox.run({ signal: stop.signal });
   * stop.abort();
   * await running;
   * ```
   */
  async run(options?: { signal?: AbortSignal }): Promise<void> {
    const opts = requireOptions(options, "run a JetStream inbox", ["signal"]);
    const signal = opts.signal ?? new AbortController().signal;
    ensureInbox(this.#db);
    const stopPruning = new AbortController();
    const pruning = this.#pruneEvery(stopPruning.signal);
    try {
      const ready = await retryUntilDone(
        () => this.#ensureConsumer(),
        signal,
        (e) => this.#failed(e),
      );
      while (ready !== undefined && !signal.aborted && !this.#db.closed) {
        const done = await retryUntilDone(
          () => this.#consume(signal),
          signal,
          (e) => this.#failed(e),
        );
        if (done === undefined) break;
      }
    } finally {
      stopPruning.abort();
      await pruning;
    }
  }

  /** Deletes the records past the retention now and every minute, until `signal` aborts. */
  async #pruneEvery(signal: AbortSignal): Promise<void> {
    const olderThanS = this.#opts.retentionS;
    if (olderThanS === null) return;
    while (!signal.aborted && !this.#db.closed) {
      try {
        this.#pruned += await pruneInbox(this.#db, { olderThanS });
      } catch (error) {
        if (this.#db.closed || error instanceof DatabaseClosedError) return;
        this.#failed(error);
      }
      await sleep(INBOX_PRUNE_EVERY_MS, signal);
    }
  }

  /**
   * What the inbox has applied.
   *
   * @example Watch duplicates
   * ```ts ignore
   * const { applied, duplicates } = inbox.stats();
   * ```
   */
  stats(): InboxStats {
    return {
      applied: this.#rate.count,
      duplicates: this.#duplicates,
      pruned: this.#pruned,
      appliedPerS: this.#rate.perS(),
      lastError: this.#lastError,
    };
  }

  #failed(error: unknown): void {
    this.#lastError = error instanceof Error ? error.message : String(error);
    this.#opts.onError?.(error);
  }

  async #ensureConsumer(): Promise<true> {
    const jsm = await jetstreamManager(this.#nc);
    try {
      await jsm.consumers.info(this.#opts.stream, this.#opts.consumer);
    } catch {
      await jsm.consumers.add(this.#opts.stream, {
        durable_name: this.#opts.consumer,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: this.#opts.ackWaitMs * 1_000_000,
        ...(this.#opts.filterSubject ? { filter_subject: this.#opts.filterSubject } : {}),
      });
    }
    return true;
  }

  /**
   * Consumes until the subscription ends (abort, or a failure the caller retries). The messages
   * that arrive in one turn of the event loop are applied together, in the next macrotask: at
   * once when they come one by one, in batches under load.
   */
  async #consume(signal: AbortSignal): Promise<true> {
    const consumer = await this.#js.consumers.get(this.#opts.stream, this.#opts.consumer);
    const messages = await consumer.consume({ max_messages: this.#opts.batchSize });
    const abort = () => messages.stop();
    signal.addEventListener("abort", abort, { once: true });
    const batch: JsMsg[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = () => {
      clearTimeout(timer);
      timer = undefined;
      this.#applyAndAck(batch.splice(0));
    };
    try {
      for await (const m of messages) {
        batch.push(m);
        if (batch.length >= this.#opts.batchSize) flush();
        else timer ??= setTimeout(flush, 0);
      }
    } finally {
      flush();
      signal.removeEventListener("abort", abort);
      messages.stop();
    }
    return true;
  }

  /** Applies a batch in one transaction, then acknowledges it; alone, one by one, on failure. */
  #applyAndAck(batch: JsMsg[]): void {
    if (batch.length === 0) return;
    try {
      this.#commit(batch);
      for (const m of batch) m.ack();
    } catch (error) {
      if (error instanceof DatabaseClosedError) return;
      this.#failed(error);
      for (const m of batch) {
        try {
          this.#commit([m]);
          m.ack();
        } catch (single) {
          this.#failed(single);
          m.nak(1_000);
        }
      }
    }
  }

  #commit(batch: JsMsg[]): void {
    let applied = 0;
    this.#db.transaction((tx) => {
      for (const m of batch) {
        const message = toInboxMessage(this.#opts.stream, m);
        if (applyOnce(tx, message, () => this.#opts.apply(message, tx))) applied++;
      }
    });
    this.#rate.add(applied);
    this.#duplicates += batch.length - applied;
  }
}
