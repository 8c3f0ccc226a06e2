/**
 * One term of a bridge's publisher as leader: the events read and not yet published, the
 * publishes in flight (at most a window's worth), and the position saved so far. The publisher
 * (`bridge_publisher.ts`) reconciles with the sink, then runs one of these until the term ends.
 *
 * @module
 */

import type { AckWindow } from "./ack_window.ts";
import type { SinkMessage } from "./sink.ts";
import { sleep } from "../core/wait/sleep.ts";

/**
 * Milliseconds between saves of the position while publishes are in flight: a crash publishes
 * again at most this long's worth of acknowledged events (with their ids), which the restart's
 * reconciliation finds in the sink and skips.
 */
const SAVE_EVERY_MS = 50;

/** How long the end of a term waits for the publishes still in flight before its last save. */
const SETTLE_AT_END_MS = 2000;

/** What a term needs of its publisher. */
export interface TermHost {
  /** Up to `limit` events after `offset`, in order. */
  read(offset: number, limit: number): SinkMessage[];
  /** Publishes one message (retried until stored or the term ends), then acks it in `window`. */
  publish(message: SinkMessage, window: AckWindow, signal: AbortSignal): Promise<void>;
  /** Saves the position, fenced by the bridge's lock: "lost" when another owner holds it. */
  save(position: number): "saved" | "lost" | "busy";
  /**
   * Resolves when a publish settles (`onSettle` receives the resolver), `waitMs` pass, or (when
   * `watch`) an event after `offset` is committed.
   */
  waitForWork(
    watch: boolean,
    offset: number,
    waitMs: number,
    signal: AbortSignal,
    onSettle: (wake: () => void) => void,
  ): Promise<void>;
}

/** Where a term starts, as reconciliation with the sink found it. */
export interface TermStart {
  /** The acknowledgement window, starting at the reconciled position. */
  window: AckWindow;
  /** Offsets after the position the sink already holds: acknowledged without a publish. */
  skip: ReadonlySet<number>;
  /** The position saved when the term began. */
  saved: number;
}

/** One term's publishing loop. */
export class PublishTerm {
  readonly #host: TermHost;
  readonly #term: AbortController;
  readonly #window: AckWindow;
  readonly #skip: ReadonlySet<number>;
  readonly #size: number;
  /**
   * Events read and not yet published, from `#head` on: read in pages of about a window, so an
   * acknowledgement starts the next publish at once (as a raw publisher's lanes do) and the
   * window stays full, with one read per window's worth of acknowledgements.
   */
  #queue: SinkMessage[] = [];
  #head = 0;
  #readOffset: number;
  #caughtUp = false;
  #publishing = 0;
  #drained: () => void = () => {};
  #wake: () => void = () => {};
  #savedAtMs = 0;
  #savedPosition: number;
  #lost = false;

  /** A term of `windowSize` publishes in flight at most, ended by aborting `term`. */
  constructor(host: TermHost, term: AbortController, start: TermStart, windowSize: number) {
    this.#host = host;
    this.#term = term;
    this.#window = start.window;
    this.#skip = start.skip;
    this.#size = windowSize;
    this.#readOffset = start.window.position;
    this.#savedPosition = start.saved;
  }

  /**
   * Publishes until the term aborts (a lost save aborts it too). Resolves once the publishes in
   * flight have settled (for at most two seconds) and the position is saved.
   */
  async run(): Promise<void> {
    const signal = this.#term.signal;
    try {
      while (!signal.aborted) {
        if (this.#queue.length - this.#head < this.#size) this.#readPage();
        this.#launch();
        if (this.#publishing === 0 || Date.now() - this.#savedAtMs >= SAVE_EVERY_MS) this.#save();
        if (!this.#caughtUp && this.#queue.length - this.#head < this.#size) continue;
        // While publishes are in flight the position moves: come back to save it.
        const moving = this.#publishing > 0 || this.#window.position > this.#savedPosition;
        const waitMs = moving ? SAVE_EVERY_MS : 1000;
        await this.#host.waitForWork(this.#caughtUp, this.#readOffset, waitMs, signal, (fn) => {
          this.#wake = fn;
        });
      }
    } finally {
      const allSettled = new Promise<void>((resolve) => (this.#drained = resolve));
      if (this.#publishing > 0) await Promise.race([allSettled, sleep(SETTLE_AT_END_MS)]);
      this.#save();
    }
  }

  /** Reads the next page: enough to fill two windows with what is still queued. */
  #readPage(): void {
    this.#queue = this.#queue.slice(this.#head);
    this.#head = 0;
    const want = 2 * this.#size - this.#queue.length;
    const messages = this.#host.read(this.#readOffset, want);
    this.#caughtUp = messages.length < want;
    if (messages.length > 0) this.#readOffset = messages[messages.length - 1].offset;
    for (const message of messages) this.#queue.push(message);
  }

  /** Starts publishes until the window is full or nothing read is left. */
  #launch(): void {
    const signal = this.#term.signal;
    while (this.#publishing < this.#size && this.#head < this.#queue.length && !signal.aborted) {
      const message = this.#queue[this.#head++];
      this.#window.add(message.offset);
      if (this.#skip.has(message.offset)) {
        this.#window.ack(message.offset);
        continue;
      }
      this.#publishing++;
      void this.#host.publish(message, this.#window, signal).then(() => this.#settled());
    }
  }

  #settled(): void {
    if (--this.#publishing === 0) this.#drained();
    this.#launch();
    // Wake the loop to read the next page, or (all read) to save the position once idle.
    const wanted = this.#caughtUp
      ? this.#publishing === 0
      : this.#queue.length - this.#head < this.#size;
    if (wanted) this.#wake();
  }

  /** Saves the position if it moved; a save that finds the lock lost ends the term. */
  #save(): void {
    const position = this.#window.position;
    if (!this.#lost && position > this.#savedPosition) {
      const outcome = this.#host.save(position);
      if (outcome === "saved") this.#savedPosition = position;
      if (outcome === "lost") {
        this.#lost = true;
        this.#term.abort();
      }
    }
    this.#savedAtMs = Date.now();
  }
}
