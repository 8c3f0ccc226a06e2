/**
 * Torture role: enqueues jobs with a unique payload id (into the jobs queue and the batch
 * workers' queue) and publishes events at a steady rate, each in one transaction with the row
 * that records it.
 *
 * ```sh
 * <runtime> tests/torture/producer.ts <db> <name> \
 *   '{"jobRate":30,"eventRate":10,"batchJobRate":30,"busyTimeoutMs":10000,"visibilityTimeoutS":10}'
 * ```
 *
 * @module
 */

import { runRole } from "./_role.ts";
import { sleep } from "../../core/wait/sleep.ts";
import {
  BATCH_ENQUEUED_INSERT,
  BATCH_QUEUE,
  ENQUEUED_INSERT,
  EVENTS_TOPIC,
  JOBS_QUEUE,
  MAX_ATTEMPTS,
  PUBLISHED_INSERT,
} from "./_shared.ts";
import type { EventPayload, JobPayload, ProducerConfig } from "./_shared.ts";

/** How often the producer looks whether it is behind its rate. */
const TICK_MS = 20;

await runRole<
  ProducerConfig,
  { enqueued: number; batchEnqueued: number; published: number }
>(async (ctx) => {
  const { db, name, config, signal } = ctx;
  const jobs = db.queue<JobPayload>(JOBS_QUEUE, {
    visibilityTimeoutS: config.visibilityTimeoutS,
    maxAttempts: MAX_ATTEMPTS,
  });
  const batchJobs = db.queue<JobPayload>(BATCH_QUEUE, {
    visibilityTimeoutS: config.visibilityTimeoutS,
    maxAttempts: MAX_ATTEMPTS,
  });
  const events = db.stream<EventPayload>(EVENTS_TOPIC);
  let enqueued = 0;
  let batchEnqueued = 0;
  let published = 0;
  const startedAt = Date.now();
  while (!signal.aborted) {
    const elapsedS = (Date.now() - startedAt) / 1000;
    // Catch up after a stall: the rate holds on average, as a real producer's would.
    while (enqueued < Math.floor(elapsedS * config.jobRate)) {
      const id = `${name}:${enqueued}`;
      db.transaction((tx) => {
        const atMs = Date.now();
        const jobId = jobs.enqueue({ id, atMs }, { tx });
        tx.run(ENQUEUED_INSERT, [id, jobId, name, atMs]);
      });
      enqueued++;
    }
    while (batchEnqueued < Math.floor(elapsedS * config.batchJobRate)) {
      const id = `${name}:b${batchEnqueued}`;
      db.transaction((tx) => {
        const atMs = Date.now();
        const jobId = batchJobs.enqueue({ id, atMs }, { tx });
        tx.run(BATCH_ENQUEUED_INSERT, [id, jobId, name, atMs]);
      });
      batchEnqueued++;
    }
    while (published < Math.floor(elapsedS * config.eventRate)) {
      const seq = published;
      db.transaction((tx) => {
        const offset = events.publish({ producer: name, seq }, { tx });
        tx.run(PUBLISHED_INSERT, [offset, name, seq, Date.now()]);
      });
      published++;
    }
    await sleep(TICK_MS, signal);
  }
  return { enqueued, batchEnqueued, published };
});
