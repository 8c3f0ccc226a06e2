/**
 * BullMQ on a local Redis, the end-to-end anchor the wake benchmark measures beside honker-ts in
 * the same run: a `redis-server` of its own on a free localhost port (bench/_redis.ts), and
 * BullMQ's `Queue.add` and `Worker` on that connection.
 *
 * Redis runs with persistence off (`--save "" --appendonly no`), the setting most favourable to
 * BullMQ: an `add` returns once the job is in memory, while a honker-ts commit is in the WAL file.
 *
 * @module
 */

export { redisSkipReason as bullmqSkipReason, startRedis } from "./_redis.ts";
export type { LocalRedis, RedisConnection } from "./_redis.ts";

/** The BullMQ queue both processes use. */
export const BULLMQ_QUEUE = "wake-bench";
