/**
 * A JetStream message as the inbox hands it to `apply`: its id, source and offset (from the
 * bridge's headers when it has them, else from the stream), subject, JSON payload and headers.
 *
 * @module
 */

import type { JsMsg } from "@nats-io/jetstream";
import { OFFSET_HEADER, SOURCE_HEADER } from "./jetstream_sink.ts";

/** One message as the inbox hands it to `apply`. */
export interface InboxMessage {
  /** Its id: the publisher's `Nats-Msg-Id`, else `<stream>:<stream sequence>`. */
  id: string;
  /** Its source: the `Honker-Source` header, else the stream's name. */
  source: string;
  /** Its offset in its source: the `Honker-Offset` header, else the stream sequence. */
  offset: number;
  /** The subject it was published on. */
  subject: string;
  /** The payload parsed as JSON (a bridge's event payload). */
  payload: unknown;
  /** The message's headers, by name (first value of each). */
  headers: Record<string, string>;
}

const decoder = new TextDecoder();

/** Reads a message of `stream` as the inbox hands it to `apply`. */
export function toInboxMessage(stream: string, m: JsMsg): InboxMessage {
  const headers: Record<string, string> = {};
  for (const [name, values] of m.headers ?? []) headers[name] = values[0];
  const offset = Number(m.headers?.get(OFFSET_HEADER) || m.seq);
  return {
    id: m.headers?.get("Nats-Msg-Id") || `${stream}:${m.seq}`,
    source: m.headers?.get(SOURCE_HEADER) || stream,
    offset: Number.isSafeInteger(offset) ? offset : m.seq,
    subject: m.subject,
    payload: m.data.length === 0 ? null : JSON.parse(decoder.decode(m.data)),
    headers,
  };
}
