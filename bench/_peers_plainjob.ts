/**
 * plainjob on better-sqlite3 as a peers-benchmark system (Node only).
 *
 * plainjob's worker runs one job at a time and polls when it finds none, so `concurrency` slots
 * are that many workers on the process's one connection, and each polls every
 * `PLAINJOB_POLL_MS` (its default is 1 s, which would make its latency a matter of the poll
 * interval alone). Its logger is silenced: it logs every job at debug level.
 *
 * @module
 */

import Database from "better-sqlite3";
import { better, defineQueue, defineWorker } from "plainjob";
import type { Logger } from "plainjob";
import { QUEUE } from "./_peers_system.ts";
import type { PeerSystem, PreparedWork, SystemPlace } from "./_peers_system.ts";

/** How often an idle plainjob worker looks for a job. */
export const PLAINJOB_POLL_MS = 10;

const SILENT: Logger = { error() {}, warn() {}, info() {}, debug() {} };

/** plainjob's queue (and workers) on the SQLite file at `place.path`. */
export function openPlainjob(place: SystemPlace): Promise<PeerSystem> {
  const connection = better(new Database(place.path));
  const queue = defineQueue({ connection, logger: SILENT });
  return Promise.resolve({
    add: (payload) => void queue.add(QUEUE, payload),
    addBulk: (payloads) => void queue.addMany(QUEUE, payloads),
    prepare(concurrency, onJob): Promise<PreparedWork> {
      // deno-lint-ignore require-await
      const processor = async (job: { data: string }) => onJob(JSON.parse(job.data));
      const options = { queue, logger: SILENT, pollIntervall: PLAINJOB_POLL_MS };
      const workers = Array.from(
        { length: concurrency },
        () => defineWorker(QUEUE, processor, options),
      );
      let running: Promise<unknown> = Promise.resolve();
      return Promise.resolve({
        start: () => void (running = Promise.all(workers.map((worker) => worker.start()))),
        // stop() only ends the workers' loops; each start() resolves once its job is done.
        stop: async () => {
          await Promise.all(workers.map((worker) => worker.stop()));
          await running;
        },
      });
    },
    close: () => Promise.resolve(queue.close()),
  });
}
