/**
 * What a stream hands out, shared by the Stream class and its subscriptions.
 *
 * @module
 */

/** One event of a stream. */
export interface StreamEvent<T = unknown> {
  /** Position in the file-wide sequence; increases within a topic, with gaps. */
  offset: number;
  /** The stream's topic. */
  topic: string;
  /** The partition key given at publish, or null. Stored, never interpreted. */
  key: string | null;
  /** The decoded payload. */
  payload: T;
  /** Unix seconds it was published. */
  createdAt: number;
}
