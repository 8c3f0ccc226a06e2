/**
 * The NATS connection the bridges take, typed as the subset that tells one apart (the way
 * adapters type a native handle as `XxxLike`), so this package's types do not depend on the
 * client's: pass the connection `connect()` of any `@nats-io/transport-*` returns.
 *
 * @module
 */

import type { NatsConnection } from "@nats-io/nats-core";

/** A connection made by `connect()` of `@nats-io/transport-node` (or another transport). */
export interface NatsConnectionLike {
  /** Resolves once the connection is closed. */
  closed(): Promise<void | Error>;
  /** Flushes and closes the connection. */
  close(): Promise<void>;
  /** Whether the connection is closed. */
  isClosed(): boolean;
}

/** The full client connection behind a `NatsConnectionLike`. */
export function natsConnection(connection: NatsConnectionLike): NatsConnection {
  return connection as unknown as NatsConnection;
}
