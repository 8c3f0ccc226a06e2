// Drizzle and honker-ts on one connection (bun:sqlite, better-sqlite3, libsql): an order written
// through Drizzle and its job commit or roll back together, a worker in another process does the
// job, and work()'s own writes never join a transaction the application opened.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { eq, sql, TransactionRollbackError } from "drizzle-orm";
import { eventually, sleep, tempDbPath } from "./_helpers.ts";
import { collect, exited, LineReader, spawnScript } from "./_spawn.ts";
import { DRIZZLE_STACKS, orders } from "./fixtures/orm_stacks.ts";
import type { DrizzleApp, EmailJob, Stack } from "./fixtures/orm_stacks.ts";

const WORKER = fileURLToPath(new URL("./fixtures/orm_worker.ts", import.meta.url));

/** Runs `body` on a fresh application (Drizzle and honker-ts sharing one connection). */
function withApp(
  stack: Stack<DrizzleApp>,
  body: (app: DrizzleApp, path: string) => void | Promise<void>,
): () => Promise<void> {
  return async () => {
    const path = tempDbPath();
    const app = await stack.open(path);
    try {
      await body(app, path);
    } finally {
      app.close();
    }
  };
}

/** The orders as Drizzle reads them. */
function allOrders(app: DrizzleApp) {
  return app.orm.select().from(orders).orderBy(orders.id).all();
}

/** Every live job of the queue "emails" (pending or claimed). */
function liveJobs(app: DrizzleApp): number {
  const stats = app.db.queue("emails").stats();
  return stats.pending + stats.scheduled + stats.processing;
}

for (const stack of DRIZZLE_STACKS) {
  const skip = stack.skip;
  describe(`Drizzle on ${stack.id.replace("drizzle-", "")}`, () => {
    it(
      "an order inserted in Drizzle's transaction and the job enqueued in it commit together",
      { skip },
      withApp(stack, (app) => {
        const emails = app.db.queue<EmailJob>("emails");
        const orderId = app.orm.transaction((tx) => {
          const { id } = tx.insert(orders).values({ email: "ada@example.com" })
            .returning({ id: orders.id }).get();
          emails.enqueue({ orderId: id });
          return id;
        });
        assert.deepEqual(allOrders(app).map((o) => o.email), ["ada@example.com"]);
        assert.deepEqual(emails.claimOne("test")?.payload, { orderId });
      }),
    );

    it(
      "Drizzle's transaction that throws, or calls tx.rollback(), drops the order and its job",
      { skip },
      withApp(stack, (app) => {
        const emails = app.db.queue<EmailJob>("emails");
        assert.throws(
          () =>
            app.orm.transaction((tx) => {
              tx.insert(orders).values({ id: 1, email: "ada@example.com" }).run();
              emails.enqueue({ orderId: 1 });
              throw new Error("payment declined");
            }),
          /payment declined/,
        );
        assert.throws(
          () =>
            app.orm.transaction((tx) => {
              tx.insert(orders).values({ id: 2, email: "bob@example.com" }).run();
              emails.enqueue({ orderId: 2 });
              tx.rollback();
            }),
          TransactionRollbackError,
        );
        assert.deepEqual(allOrders(app), []);
        assert.equal(liveJobs(app), 0);
        // The connection is usable afterwards: honker-ts left no savepoint behind.
        app.orm.transaction((tx) => {
          tx.insert(orders).values({ id: 3, email: "cy@example.com" }).run();
          emails.enqueue({ orderId: 3 });
        });
        assert.equal(allOrders(app).length, 1);
        assert.equal(liveJobs(app), 1);
      }),
    );

    it(
      "a worker in another process does the job: marks the order through Drizzle and acks in the same transaction",
      { skip, timeout: 60_000 },
      withApp(stack, async (app, path) => {
        const emails = app.db.queue<EmailJob>("emails");
        const child = spawnScript(WORKER, [stack.id, path, "2"]);
        const lines = new LineReader(child);
        const output = collect(child);
        await lines.waitFor(/^ready$/, 30_000).catch(async (error) => {
          child.kill();
          throw new Error(`${error.message}\n${(await output).stderr}`);
        });
        for (const email of ["ada@example.com", "bob@example.com"]) {
          app.orm.transaction((tx) => {
            const { id } = tx.insert(orders).values({ email }).returning({ id: orders.id }).get();
            emails.enqueue({ orderId: id });
          });
        }
        await lines.waitForCount(/^sent \d+$/, 2, 20_000);
        assert.equal(await exited(child), 0, (await output).stderr);
        assert.deepEqual(JSON.parse(lines.lines.at(-1) ?? "null"), {
          acked: 2,
          retried: 0,
          dead: 0,
          lost: 0,
        });
        assert.deepEqual(
          allOrders(app).map((o) => o.emailedBy),
          [`worker ${child.pid}`, `worker ${child.pid}`],
        );
        assert.equal(liveJobs(app), 0);
      }),
    );

    it(
      "work()'s ack waits out the application's transaction begun through Drizzle and open across an await, then commits on its own: rolled back, the job still ran once and never runs again",
      { skip, timeout: 20_000 },
      withApp(stack, async (app) => {
        // Drizzle's transaction() is synchronous on these drivers (it cannot span an await), so
        // an application that needs one across awaits begins it with SQL.
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
        app.orm.run(sql`BEGIN`);
        app.orm.insert(orders).values({ email: "ada@example.com" }).run();
        release();
        await eventually(() => handlerDone, 5000, "the handler");
        await sleep(300); // work() wants to ack now
        assert.equal(liveJobs(app), 1, "the ack must not run inside the application's transaction");
        app.orm.run(sql`ROLLBACK`);
        await eventually(() => liveJobs(app) === 0, 5000, "the ack");
        await sleep(2500); // past the visibility timeout: a lost ack would run the job again
        stop.abort();
        assert.deepEqual(await done, { acked: 1, retried: 0, dead: 0, lost: 0 });
        assert.deepEqual(runs, [1]);
        assert.deepEqual(allOrders(app), []);
      }),
    );

    it(
      "a handler's job.fail() inside Drizzle's transaction joins it: rolled back, the job runs again; committed, it is dead and the order marked failed",
      { skip, timeout: 20_000 },
      withApp(stack, async (app) => {
        const emails = app.db.queue<EmailJob>("emails");
        app.orm.insert(orders).values({ id: 1, email: "ada@example.com" }).run();
        emails.enqueue({ orderId: 1 });
        let runs = 0;
        const stop = new AbortController();
        const result = await emails.work((job) => {
          runs++;
          try {
            app.orm.transaction((tx) => {
              tx.update(orders).set({ status: "failed" })
                .where(eq(orders.id, job.payload.orderId)).run();
              assert.equal(job.fail("card declined"), true);
              if (runs === 1) tx.rollback(); // the application changes its mind the first time
            });
          } catch (error) {
            if (!(error instanceof TransactionRollbackError)) throw error;
          }
          if (runs === 2) stop.abort();
        }, { signal: stop.signal, idlePollMs: 50 });
        assert.equal(runs, 2);
        assert.deepEqual(result, { acked: 0, retried: 0, dead: 1, lost: 1 });
        assert.equal(allOrders(app)[0].status, "failed");
        assert.equal(liveJobs(app), 0);
        assert.equal(app.db.queue("emails").stats().dead, 1);
      }),
    );

    it(
      "an async callback is no Drizzle transaction on this driver: what it awaits and enqueues is written outside any transaction and stays when it throws",
      { skip },
      withApp(stack, async (app) => {
        const emails = app.db.queue<EmailJob>("emails");
        let callback: Promise<void> | undefined;
        let threw: unknown;
        try {
          await app.orm.transaction((tx) =>
            callback = (async () => {
              await tx.insert(orders).values({ id: 1, email: "ada@example.com" });
              emails.enqueue({ orderId: 1 }); // runs once the callback has returned its promise
              throw new Error("payment declined");
            })()
          );
        } catch (error) {
          threw = error;
        }
        await callback?.catch(() => {});
        // better-sqlite3 refuses the promise, bun:sqlite and libsql commit when they get it; either
        // way the transaction is over before the awaited insert even runs.
        assert.match(
          String(threw),
          stack.id === "drizzle-better-sqlite3"
            ? /Transaction function cannot return a promise/
            : /payment declined/,
        );
        assert.equal(allOrders(app).length, 1, "the order was inserted outside any transaction");
        assert.equal(liveJobs(app), 1, "the job was enqueued outside any transaction");
      }),
    );
  });
}
