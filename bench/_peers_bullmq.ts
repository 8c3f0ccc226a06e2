/**
 * BullMQ on the benchmark's private Redis as a peers-benchmark system (Node only).
 *
 * Jobs are removed when they complete or fail (`removeOnComplete`, `removeOnFail`), as honker-ts
 * deletes a job on its ack; BullMQ's default keeps every completed job in Redis. A worker is a
 * BullMQ `Worker` with `concurrency` slots, made with `autorun: false` and connected before the
 * timed part starts.
 *
 * @module
 */

import { Queue, Worker } from "bullmq";
import { QUEUE } from "./_peers_system.ts";
import type { Payload, PeerSystem, PreparedWork, SystemPlace } from "./_peers_system.ts";

const JOB_NAME = "job";

/** BullMQ's `Queue` (and `Worker`s) on the Redis at `place.redisPort`. */
export async function openBullmq(place: SystemPlace): Promise<PeerSystem> {
  if (place.redisPort === undefined) {
    throw new TypeError("Cannot open BullMQ: the benchmark started no Redis for it");
  }
  const connection = { host: "127.0.0.1", port: place.redisPort };
  const queue = new Queue<Payload>(QUEUE, {
    connection,
    defaultJobOptions: { removeOnComplete: true, removeOnFail: true },
  });
  await queue.waitUntilReady();
  const workers: Worker[] = [];
  return {
    add: (payload) => queue.add(JOB_NAME, payload),
    addBulk: (payloads) => queue.addBulk(payloads.map((data) => ({ name: JOB_NAME, data }))),
    async prepare(concurrency, onJob): Promise<PreparedWork> {
      // deno-lint-ignore require-await
      const processor = async (job: { data: Payload }) => onJob(job.data);
      const worker = new Worker<Payload>(QUEUE, processor, {
        connection,
        concurrency,
        autorun: false,
      });
      workers.push(worker);
      await worker.waitUntilReady();
      let running: Promise<void> = Promise.resolve();
      return {
        start: () => void (running = worker.run()),
        stop: async () => {
          await worker.close();
          await running;
        },
      };
    },
    close: async () => {
      await Promise.all(workers.map((worker) => worker.close()));
      await queue.close();
    },
  };
}
