/**
 * What a bridge publishes to: a `Sink`. The bridge owns ordering, the window of publishes in
 * flight, retries with the same id, leader election and the saved position; a sink only stores
 * one message idempotently and says which offsets it already holds. JetStream is one sink
 * (`nats/jetstream_sink.ts`); a Kafka sink would be one more file implementing this interface
 * (an idempotent producer, `id` as the record key, the offset headers, and `heldOffsets` read
 * from the partition's tail).
 *
 * @module
 */

/** One stream event on its way out, with the id and headers every sink stores. */
export interface SinkMessage {
  /** The id that makes the publish idempotent: `<file id>:<topic>:<offset>`. */
  readonly id: string;
  /** Who published it: `<file id>:<topic>`. */
  readonly source: string;
  /** The event's topic in the file. */
  readonly topic: string;
  /** The event's offset in the file. */
  readonly offset: number;
  /** The event's key, or null. */
  readonly key: string | null;
  /** Unix seconds the event was published at, in the file. */
  readonly createdAt: number;
  /** The event's payload as JSON text. */
  readonly payload: string;
}

/** A place a bridge publishes to, idempotently by message id. */
export interface Sink {
  /** Names the sink in errors and stats (`jetstream:orders.events`). */
  readonly name: string;
  /**
   * Stores one message; resolves once the sink has it durably (acknowledged). Rejects on any
   * failure: the bridge retries the same message, with the same id, until it resolves, so a
   * sink must treat a repeated id as already stored.
   */
  publish(message: SinkMessage): Promise<void>;
  /**
   * The offsets of `source` that the sink holds at its tail: at least the last `scan` messages
   * it stored for this destination. The bridge resumes from them on start, because the sink may
   * have stored messages the file never recorded as acknowledged (a crash between the two), and
   * may have lost some it acknowledged.
   */
  heldOffsets(source: string, scan: number): Promise<number[]>;
}
