/**
 * The options of a JetStream inbox, their defaults and their check: the stream and durable
 * consumer it reads, the `apply` it runs, its batch size, ack wait and retention.
 *
 * @module
 */

import type { Transaction } from "../../mod.ts";
import { requireCount, requireName, requireOptions } from "../../core/db/validate.ts";
import { INBOX_RETENTION_DEFAULT_S, requireRetentionS } from "../inbox_retention.ts";
import type { InboxMessage } from "./jetstream_inbox_message.ts";

/** Options for `JetStreamInbox`. */
export interface JetStreamInboxOptions {
  /** The JetStream stream to consume. */
  stream: string;
  /** The durable consumer's name; created (explicit acks) when it does not exist. */
  consumer: string;
  /** Applies one message inside the inbox's transaction: write through `{ tx }` only. */
  apply: (message: InboxMessage, tx: Transaction) => void;
  /** Only these subjects, when the consumer is created (default: the whole stream). */
  filterSubject?: string;
  /** Messages pulled at once, applied in one transaction (default 256). */
  batchSize?: number;
  /**
   * Milliseconds JetStream waits for an acknowledgement before delivering a message again, when
   * the consumer is created (default 30 000).
   */
  ackWaitMs?: number;
  /**
   * Seconds the record of an applied message is kept (default 7 days, null: forever). While
   * `run()` runs, records older than this are deleted in short chunks, at start and then every
   * minute. A message delivered again after its record went is applied again: keep this longer
   * than any redelivery (ack wait × deliveries, an inbox outage, JetStream's duplicate window, a
   * replay of the stream).
   */
  retentionS?: number | null;
  /** Called with each failure before it is retried. */
  onError?: (error: unknown) => void;
}

/** The keys `JetStreamInboxOptions` may have: any other is refused before anything is consumed. */
export const JETSTREAM_INBOX_OPTION_KEYS: readonly (keyof JetStreamInboxOptions)[] = [
  "stream",
  "consumer",
  "apply",
  "filterSubject",
  "batchSize",
  "ackWaitMs",
  "retentionS",
  "onError",
];

/** `JetStreamInboxOptions` checked, with their defaults filled in. */
export type CheckedJetStreamInboxOptions =
  & Required<Omit<JetStreamInboxOptions, "filterSubject" | "onError" | "retentionS">>
  & {
    filterSubject: string | undefined;
    retentionS: number | null;
    onError: ((error: unknown) => void) | undefined;
  };

/**
 * Checks the options of a JetStream inbox and fills in their defaults.
 *
 * @throws {TypeError | RangeError} Naming the option and `action`, before anything is consumed.
 */
export function checkJetStreamInboxOptions(
  options: JetStreamInboxOptions,
  action: string,
): CheckedJetStreamInboxOptions {
  const opts = requireOptions(options, action, JETSTREAM_INBOX_OPTION_KEYS);
  requireName(opts.stream, "stream", action);
  requireName(opts.consumer, "consumer", action);
  if (typeof opts.apply !== "function") {
    throw new TypeError(`Cannot ${action}: apply must be a function`);
  }
  if (opts.filterSubject !== undefined) requireName(opts.filterSubject, "filterSubject", action);
  return {
    stream: opts.stream,
    consumer: opts.consumer,
    apply: opts.apply,
    filterSubject: opts.filterSubject,
    batchSize: requireCount(opts.batchSize ?? 256, "batchSize", action),
    ackWaitMs: requireCount(opts.ackWaitMs ?? 30_000, "ackWaitMs", action),
    retentionS: opts.retentionS === undefined
      ? INBOX_RETENTION_DEFAULT_S
      : requireRetentionS(opts.retentionS, "retentionS", action),
    onError: opts.onError,
  };
}
