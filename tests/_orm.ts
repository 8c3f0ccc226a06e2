/**
 * What the ORM tests (`orm_drizzle_test.ts`, `orm_kysely_test.ts`) do alike whatever the ORM: a
 * fresh application per test, the live jobs of the queue "emails", a worker in another process,
 * a work() loop whose handler waits to be released, and one that stops after its second run.
 *
 * @module
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import type { Database, Job, Queue, WorkResult } from "../mod.ts";
import { eventually, sleep, tempDbPath } from "./_helpers.ts";
import { collect, exited, LineReader, spawnScript } from "./_spawn.ts";
import type { EmailJob, Stack, StackId } from "./fixtures/orm_stacks.ts";

const WORKER = fileURLToPath(new URL("./fixtures/orm_worker.ts", import.meta.url));

/** What every application stack has: honker-ts, and a close() for honker-ts and the connection. */
interface App {
  db: Database;
  close(): void | Promise<void>;
}

/** Runs `body` on a fresh application of `stack` (its ORM and honker-ts sharing one connection). */
export function withApp<A extends App>(
  stack: Stack<A>,
  body: (app: A, path: string) => void | Promise<void>,
): () => Promise<void> {
  return async () => {
    const path = tempDbPath();
    const app = await stack.open(path);
    try {
      await body(app, path);
    } finally {
      await app.close();
    }
  };
}

/** Every live job of the queue "emails" (pending or claimed). */
export function liveJobs(app: App): number {
  const stats = app.db.queue("emails").stats();
  return stats.pending + stats.scheduled + stats.processing;
}

/**
 * Starts the worker fixture of `stackId` on `path` for two jobs, places an order for each of two
 * emails through `placeOrder` once the worker is ready, and checks that the worker acked both and
 * exited cleanly. Returns the worker's pid (the orders' emailed_by names it).
 */
export async function ordersDoneByWorker(
  stackId: StackId,
  path: string,
  placeOrder: (email: string) => unknown,
): Promise<number | undefined> {
  const child = spawnScript(WORKER, [stackId, path, "2"]);
  const lines = new LineReader(child);
  const output = collect(child);
  await lines.waitFor(/^ready$/, 30_000).catch(async (error) => {
    child.kill();
    throw new Error(`${error.message}\n${(await output).stderr}`);
  });
  for (const email of ["ada@example.com", "bob@example.com"]) await placeOrder(email);
  await lines.waitForCount(/^sent \d+$/, 2, 20_000);
  assert.equal(await exited(child), 0, (await output).stderr);
  assert.deepEqual(JSON.parse(lines.lines.at(-1) ?? "null"), {
    acked: 2,
    retried: 0,
    dead: 0,
    lost: 0,
  });
  return child.pid;
}

/** A work() loop whose handler has claimed job `{ orderId: 1 }` and waits to be released. */
export interface HeldHandler {
  /** Lets the handler return (work() then wants to ack). */
  release(): void;
  /** Resolves once the handler has returned; fails after 5 s. */
  returned(): Promise<void>;
  /**
   * Checks that the job's ack lands on its own once the application's transaction is over,
   * and that the job never runs again, even past its visibility timeout (2 s).
   */
  assertAckedOnce(): Promise<void>;
}

/** Enqueues `{ orderId: 1 }` on `emails` (visibilityTimeoutS 2) and works it with a held handler. */
export async function holdHandler(app: App): Promise<HeldHandler> {
  const emails = app.db.queue<EmailJob>("emails", { visibilityTimeoutS: 2 });
  emails.enqueue({ orderId: 1 });
  const runs: number[] = [];
  let release = () => {};
  const handlerMayReturn = new Promise<void>((resolve) => (release = resolve));
  let handlerDone = false;
  const stop = new AbortController();
  const done = emails.work(async (job) => {
    runs.push(job.payload.orderId);
    await handlerMayReturn;
    handlerDone = true;
  }, { signal: stop.signal, idlePollMs: 50 });
  await eventually(() => runs.length === 1, 5000, "the claim");
  return {
    release,
    returned: () => eventually(() => handlerDone, 5000, "the handler"),
    async assertAckedOnce() {
      await eventually(() => liveJobs(app) === 0, 5000, "the ack");
      await sleep(2500); // past the visibility timeout: a lost ack would run the job again
      stop.abort();
      assert.deepEqual(await done, { acked: 1, retried: 0, dead: 0, lost: 0 });
      assert.deepEqual(runs, [1]);
    },
  };
}

/**
 * Works `emails` with `handler`, told which run it is (1, 2, …), and stops after the second run.
 * Returns the number of runs and work()'s result.
 */
export async function workTwice(
  emails: Queue<EmailJob>,
  handler: (job: Job<EmailJob>, run: number) => void | Promise<void>,
): Promise<{ runs: number; result: WorkResult }> {
  let runs = 0;
  const stop = new AbortController();
  const result = await emails.work(async (job) => {
    runs++;
    await handler(job, runs);
    if (runs === 2) stop.abort();
  }, { signal: stop.signal, idlePollMs: 50 });
  return { runs, result };
}

/**
 * Checks the outcome of a job whose handler called job.fail() in a transaction rolled back the
 * first time and committed the second: two runs, the job dead, its failure recorded once.
 */
export function assertFailedOnceCommitted(
  app: App,
  { runs, result }: { runs: number; result: WorkResult },
): void {
  assert.equal(runs, 2);
  assert.deepEqual(result, { acked: 0, retried: 0, dead: 1, lost: 1 });
  assert.equal(liveJobs(app), 0);
  assert.equal(app.db.queue("emails").stats().dead, 1);
}
