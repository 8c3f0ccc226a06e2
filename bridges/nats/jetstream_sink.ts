/**
 * The JetStream sink: each event becomes one message on a subject, published with the event's id
 * as `msgID` (JetStream drops a repeated id inside the stream's duplicate window) and its offset
 * and source in headers (so consumers order and deduplicate after the window, too).
 *
 * @module
 */

import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamClient, JetStreamManager, StoredMsg } from "@nats-io/jetstream";
import { headers } from "@nats-io/nats-core";
import type { NatsConnection } from "@nats-io/nats-core";
import type { NatsConnectionLike } from "./connection.ts";
import { natsConnection } from "./connection.ts";
import { requireName, requireOptions, requireTimeoutMs } from "../../core/db/validate.ts";
import type { Sink, SinkMessage } from "../sink.ts";

/** The header holding the event's offset in its file. */
export const OFFSET_HEADER = "Honker-Offset";
/** The header holding the event's source, `<file id>:<topic>`. */
export const SOURCE_HEADER = "Honker-Source";
/** The header holding the event's key, when it has one. */
export const KEY_HEADER = "Honker-Key";
/** The header holding the unix second the event was published at in its file. */
export const CREATED_AT_HEADER = "Honker-Created-At";
/** Milliseconds to wait for JetStream's acknowledgement of a publish, by default. */
export const PUBLISH_TIMEOUT_DEFAULT_MS = 5_000;

/** Options for a JetStream sink. */
export interface JetStreamSinkOptions {
  /** The subject to publish on; a JetStream stream must capture it. */
  subject: string;
  /** The stream capturing `subject`; looked up by subject when not given. */
  stream?: string;
  /** Milliseconds to wait for each acknowledgement before retrying (default 5000). */
  publishTimeoutMs?: number;
}

const OPTION_KEYS: readonly (keyof JetStreamSinkOptions)[] = [
  "subject",
  "stream",
  "publishTimeoutMs",
];

const encoder = new TextEncoder();

function isNoMessage(error: unknown): boolean {
  return /no message found/i.test(error instanceof Error ? error.message : String(error));
}

/**
 * Publishes bridge messages to one JetStream subject.
 *
 * @example A sink for a bridge
 * ```ts ignore
 * const sink = new JetStreamSink(nc, { subject: "orders.events" });
 * ```
 */
export class JetStreamSink implements Sink {
  /** `jetstream:<subject>`. */
  readonly name: string;
  /** The subject it publishes on. */
  readonly subject: string;
  #js: JetStreamClient;
  #nc: NatsConnection;
  #stream: string | undefined;
  #timeoutMs: number;

  /** Checks the options; connects to nothing (the connection is yours). */
  constructor(connection: NatsConnectionLike, options: JetStreamSinkOptions) {
    const action = "make a JetStream sink";
    const opts = requireOptions(options, action, OPTION_KEYS);
    this.subject = requireName(opts.subject, "subject", action);
    if (opts.stream !== undefined) requireName(opts.stream, "stream", action);
    this.#timeoutMs = requireTimeoutMs(
      opts.publishTimeoutMs ?? PUBLISH_TIMEOUT_DEFAULT_MS,
      "publishTimeoutMs",
      action,
    );
    this.name = `jetstream:${this.subject}`;
    this.#nc = natsConnection(connection);
    this.#js = jetstream(this.#nc, { timeout: this.#timeoutMs });
    this.#stream = opts.stream;
  }

  /**
   * Publishes one message and resolves once JetStream acknowledges it (as stored, or as a
   * duplicate of one stored before).
   */
  async publish(message: SinkMessage): Promise<void> {
    const h = headers();
    h.set(OFFSET_HEADER, String(message.offset));
    h.set(SOURCE_HEADER, message.source);
    h.set(CREATED_AT_HEADER, String(message.createdAt));
    if (message.key !== null) h.set(KEY_HEADER, message.key);
    await this.#js.publish(this.subject, encoder.encode(message.payload), {
      msgID: message.id,
      headers: h,
      timeout: this.#timeoutMs,
    });
  }

  /**
   * The offsets of `source` among the subject's messages in the stream's last `scan` sequence
   * numbers, read through an ordered consumer (headers only), ending at the subject's last
   * message (or the stream's last sequence: nats-server 2.9 finds no last message for a subject
   * whose newest message was deleted).
   */
  async heldOffsets(source: string, scan: number): Promise<number[]> {
    const jsm = await jetstreamManager(this.#nc, { timeout: this.#timeoutMs });
    const stream = this.#stream ??= await jsm.streams.find(this.subject);
    const info = await jsm.streams.info(stream, { subjects_filter: this.subject });
    if (!(info.state.subjects?.[this.subject] ?? 0)) return [];
    const last = (await this.#last(jsm, stream))?.seq ?? info.state.last_seq;
    const consumer = await this.#js.consumers.get(stream, {
      filter_subjects: this.subject,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: Math.max(1, last - scan + 1),
      headers_only: true,
    });
    const offsets: number[] = [];
    for (let more = true; more;) {
      more = false;
      const messages = await consumer.fetch({ max_messages: scan, expires: 2_000 });
      for await (const m of messages) {
        if (m.headers?.get(SOURCE_HEADER) === source) {
          offsets.push(Number(m.headers.get(OFFSET_HEADER)));
        }
        more = m.info.pending > 0 && m.seq < last;
        if (!more) break;
      }
    }
    return offsets;
  }

  async #last(jsm: JetStreamManager, stream: string): Promise<StoredMsg | null> {
    try {
      return await jsm.streams.getMessage(stream, { last_by_subj: this.subject });
    } catch (error) {
      if (isNoMessage(error)) return null;
      throw error;
    }
  }
}
