/**
 * honker-ts past one host: bridges between a honker-ts file and NATS JetStream, exactly once.
 *
 * - `natsBridge()` (outbox → JetStream) publishes a stream's events to a JetStream subject with
 *   `msgID = <file id>:<topic>:<offset>`, a bounded window in flight, every failure retried with
 *   the same id, its position saved in the file after the acknowledgements and reconciled on
 *   start with what JetStream holds; leader-elected through the file's lock table.
 * - `JetStreamInbox` (JetStream → inbox) applies each message in the same SQLite transaction as
 *   its `_honker_ts_inbox` record, then acknowledges it: applied once, whatever JetStream
 *   redelivers.
 *
 * This subpath loads the NATS client (`@nats-io/jetstream`, `@nats-io/nats-core`); the main
 * `honker-ts` entry never does. Bring a connection from your runtime's transport
 * (`@nats-io/transport-node` on Node, Bun and Deno).
 *
 * ```ts ignore
 * import { open } from "honker-ts";
 * import { natsBridge } from "honker-ts/bridges/nats";
 * import { connect } from "@nats-io/transport-node";
 *
 * const db = await open("app.db");
 * const nc = await connect({ servers: ["nats://127.0.0.1:4222"] });
 * const bridge = natsBridge(db, nc, { topic: "orders", subject: "orders.events" });
 * const stop = new AbortController();
 * const running = bridge.run({ signal: stop.signal });
 * ```
 *
 * @module
 */

import type { NatsConnectionLike } from "./connection.ts";
import type { Database } from "../../mod.ts";
import { requireOptions } from "../../core/db/validate.ts";
import { OutboxBridge } from "../bridge.ts";
import { OUTBOX_BRIDGE_OPTION_KEYS } from "../bridge_options.ts";
import type { OutboxBridgeOptions } from "../bridge_options.ts";
import { JetStreamSink } from "./jetstream_sink.ts";
import type { JetStreamSinkOptions } from "./jetstream_sink.ts";

export { OutboxBridge } from "../bridge.ts";
export type { BridgeStats } from "../bridge.ts";
export { BRIDGE_LOCK_TTL_DEFAULT_S, WINDOW_SIZE_DEFAULT } from "../bridge_options.ts";
export type { OutboxBridgeOptions } from "../bridge_options.ts";
export { reconcile } from "../reconcile.ts";
export type { Sink, SinkMessage } from "../sink.ts";
export type { NatsConnectionLike } from "./connection.ts";
export { fileId, resetFileId } from "../file_id.ts";
export { applyOnce, ensureInbox, inboxSources } from "../inbox.ts";
export type { InboxKey, InboxSource } from "../inbox.ts";
export {
  INBOX_PRUNE_CHUNK_ROWS,
  INBOX_RETENTION_DEFAULT_S,
  pruneInbox,
} from "../inbox_retention.ts";
export type { PruneInboxOptions } from "../inbox_retention.ts";
export {
  CREATED_AT_HEADER,
  JetStreamSink,
  KEY_HEADER,
  OFFSET_HEADER,
  PUBLISH_TIMEOUT_DEFAULT_MS,
  SOURCE_HEADER,
} from "./jetstream_sink.ts";
export type { JetStreamSinkOptions } from "./jetstream_sink.ts";
export { INBOX_PRUNE_EVERY_MS, JetStreamInbox } from "./jetstream_inbox.ts";
export type { InboxStats } from "./jetstream_inbox.ts";
export type { InboxMessage } from "./jetstream_inbox_message.ts";
export type { JetStreamInboxOptions } from "./jetstream_inbox_options.ts";

/** Options for `natsBridge()`: the stream's topic, the sink's and the bridge's options. */
export interface NatsBridgeOptions extends JetStreamSinkOptions, OutboxBridgeOptions {
  /** The honker-ts stream whose events are published. */
  topic: string;
}

const SINK_KEYS = ["subject", "stream", "publishTimeoutMs"] as const;

/**
 * A bridge publishing the events of `options.topic` to the JetStream subject `options.subject`,
 * exactly once as JetStream sees it. Call `run()` in every process that may publish; one leads.
 *
 * @example Publish a topic to JetStream
 * ```ts ignore
 * const bridge = natsBridge(db, nc, { topic: "orders", subject: "orders.events" });
 * void bridge.run({ signal });
 * console.log(bridge.stats().lag);
 * ```
 */
export function natsBridge(
  db: Database,
  connection: NatsConnectionLike,
  options: NatsBridgeOptions,
): OutboxBridge {
  const opts = requireOptions(options, "start a NATS bridge", [
    "topic",
    ...SINK_KEYS,
    ...OUTBOX_BRIDGE_OPTION_KEYS,
  ]);
  const pick = <K extends keyof NatsBridgeOptions>(keys: readonly K[]) =>
    Object.fromEntries(keys.filter((k) => opts[k] !== undefined).map((k) => [k, opts[k]]));
  const sink = new JetStreamSink(connection, pick(SINK_KEYS) as unknown as JetStreamSinkOptions);
  return new OutboxBridge(
    db,
    opts.topic,
    sink,
    pick(OUTBOX_BRIDGE_OPTION_KEYS) as OutboxBridgeOptions,
  );
}
