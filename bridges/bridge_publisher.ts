/**
 * The publishing side of an outbox bridge, for one term as leader at a time: reconcile the saved
 * position with the sink, keep at most `windowSize` publishes in flight (each retried with its
 * same id), and save the end of the acknowledged prefix, fenced by the bridge's lock.
 *
 * @module
 */

import type { Database, Stream } from "../mod.ts";
import { LOCK_GET_LIVE } from "../core/lock/sql.ts";
import { AckWindow } from "./ack_window.ts";
import { readMessages } from "./event_rows.ts";
import { fileId } from "./file_id.ts";
import type { RateMeter } from "./rate.ts";
import { reconcile } from "./reconcile.ts";
import { retryUntilDone } from "./retry.ts";
import { sleep } from "../core/wait/sleep.ts";
import type { Sink, SinkMessage } from "./sink.ts";
import { PublishTerm } from "./publish_term.ts";
import type { TermHost } from "./publish_term.ts";

/** What a bridge's publisher needs of the bridge, checked by it. */
export interface BridgePublisherOptions {
  /** The bridge's name, for errors. */
  name: string;
  /** The topic it publishes. */
  topic: string;
  /** The file the events are read from and the position saved in. */
  db: Database;
  /** The topic's stream, whose consumer offset is the position. */
  stream: Stream;
  /** Where the events go. */
  sink: Sink;
  /** The bridge's consumer name: its position, and the name of its lock. */
  consumer: string;
  /** Who holds the bridge's lock: a save is fenced on it. */
  owner: string;
  /** Publishes in flight at once. */
  windowSize: number;
  /** How many of the sink's last messages to read on start. */
  scan: number;
  /** Counts the events published. */
  rate: RateMeter;
  /** Called with every failure before it is retried. */
  failed: (error: unknown) => void;
}

/** Publishes a bridge's events to its sink during each of the bridge's terms as leader. */
export class BridgePublisher {
  #name: string;
  #topic: string;
  #db: Database;
  #stream: Stream;
  #sink: Sink;
  #consumer: string;
  #owner: string;
  #windowSize: number;
  #scan: number;
  #rate: RateMeter;
  #failed: (error: unknown) => void;
  #window: AckWindow | undefined;

  /** Takes the bridge's checked settings; publishes nothing until `term()`. */
  constructor(options: BridgePublisherOptions) {
    this.#name = options.name;
    this.#topic = options.topic;
    this.#db = options.db;
    this.#stream = options.stream;
    this.#sink = options.sink;
    this.#consumer = options.consumer;
    this.#owner = options.owner;
    this.#windowSize = options.windowSize;
    this.#scan = options.scan;
    this.#rate = options.rate;
    this.#failed = options.failed;
  }

  /** The acknowledgement window of the term under way, or undefined outside a term. */
  get window(): AckWindow | undefined {
    return this.#window;
  }

  /**
   * Publishes until `term` aborts, and aborts it when a save finds the lock held by another
   * owner. Resolves once the publishes in flight have settled (for at most two seconds) and the
   * position is saved.
   */
  async term(term: AbortController): Promise<void> {
    const signal = term.signal;
    const source = `${fileId(this.#db)}:${this.#topic}`;
    const saved = this.#stream.getOffset(this.#consumer);
    const held = await retryUntilDone(
      () => this.#sink.heldOffsets(source, this.#scan),
      signal,
      (error) => this.#failed(error),
    );
    if (held === undefined) return;
    const { start, skip } = reconcile(saved, held);
    const window = new AckWindow(start);
    this.#window = window;
    try {
      const host = this.#termHost(source);
      await new PublishTerm(host, term, { window, skip, saved }, this.#windowSize).run();
    } finally {
      this.#window = undefined;
    }
  }

  /** What a term calls back into; `source` names this file's topic in the sink's message ids. */
  #termHost(source: string): TermHost {
    return {
      read: (offset, limit) => readMessages(this.#db, source, this.#topic, offset, limit),
      publish: (message, window, signal) => this.#publish(message, window, signal),
      save: (position) => this.#save(position),
      waitForWork: (watch, offset, waitMs, signal, onSettle) =>
        this.#waitForWork(watch, offset, waitMs, signal, onSettle),
    };
  }

  /**
   * Sleeps until a publish settles, or `waitMs` pass, or (when `watch`) a new event is committed.
   */
  async #waitForWork(
    watch: boolean,
    readOffset: number,
    waitMs: number,
    signal: AbortSignal,
    onSettle: (wake: () => void) => void,
  ): Promise<void> {
    const stop = new AbortController();
    const abort = () => stop.abort();
    signal.addEventListener("abort", abort, { once: true });
    const settled = new Promise<void>((resolve) => onSettle(resolve));
    const woken = watch
      ? this.#stream.waitForEvents(readOffset, { limit: 1, timeoutMs: waitMs, signal: stop.signal })
      : sleep(waitMs, stop.signal);
    try {
      await Promise.race([settled, woken]);
    } finally {
      stop.abort();
      signal.removeEventListener("abort", abort);
    }
  }

  async #publish(message: SinkMessage, window: AckWindow, signal: AbortSignal): Promise<void> {
    try {
      await this.#sink.publish(message); // the common case, without the retry loop's closures
    } catch (error) {
      if (signal.aborted) return;
      this.#failed(error);
      const publish = async () => (await this.#sink.publish(message), true);
      const stored = await retryUntilDone(publish, signal, (e) => this.#failed(e));
      if (stored === undefined) return;
    }
    window.ack(message.offset);
    this.#rate.add();
  }

  /**
   * Saves the position, fenced: in one transaction with a check that this bridge's owner still
   * holds the lock (unexpired). "lost" when it does not, "busy" when a busy or closed file leaves
   * the save for the next one.
   */
  #save(position: number): "saved" | "lost" | "busy" {
    try {
      const held = this.#db.transaction((tx) => {
        const lock = tx.get<{ owner: string }>(LOCK_GET_LIVE, [this.#consumer]);
        if (lock?.owner !== this.#owner) return false;
        this.#stream.saveOffset(this.#consumer, position, { tx });
        return true;
      });
      if (held) return "saved";
      this.#failed(
        new Error(
          `Cannot save the position of bridge ${JSON.stringify(this.#name)}: its lock is no ` +
            `longer held by ${JSON.stringify(this.#owner)} (it lapsed, and another bridge may ` +
            "lead now); this term ends and the bridge waits for the lock again",
        ),
      );
      return "lost";
    } catch (error) {
      if (!this.#db.closed) this.#failed(error);
      return "busy";
    }
  }
}
