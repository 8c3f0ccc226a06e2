// Drizzle and honker-ts on one connection (bun:sqlite, better-sqlite3, libsql): an order written
// through Drizzle and its job commit or roll back together, a worker in another process does the
// job, and work()'s own writes never join a transaction the application opened.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { eq, sql, TransactionRollbackError } from "drizzle-orm";
import {
  assertFailedOnceCommitted,
  holdHandler,
  liveJobs,
  ordersDoneByWorker,
  withApp,
  workTwice,
} from "./_orm.ts";
import { DRIZZLE_STACKS, orders } from "./fixtures/orm_stacks.ts";
import type { DrizzleApp, EmailJob } from "./fixtures/orm_stacks.ts";
import { sleep } from "./_helpers.ts";

/** The orders as Drizzle reads them. */
function allOrders(app: DrizzleApp) {
  return app.orm.select().from(orders).orderBy(orders.id).all();
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
        const pid = await ordersDoneByWorker(
          stack.id,
          path,
          (email) =>
            app.orm.transaction((tx) => {
              const { id } = tx.insert(orders).values({ email }).returning({ id: orders.id }).get();
              emails.enqueue({ orderId: id });
            }),
        );
        assert.deepEqual(
          allOrders(app).map((o) => o.emailedBy),
          [`worker ${pid}`, `worker ${pid}`],
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
        const held = await holdHandler(app);
        app.orm.run(sql`BEGIN`);
        app.orm.insert(orders).values({ email: "ada@example.com" }).run();
        held.release();
        await held.returned();
        await sleep(300); // work() wants to ack now
        assert.equal(liveJobs(app), 1, "the ack must not run inside the application's transaction");
        app.orm.run(sql`ROLLBACK`);
        await held.assertAckedOnce();
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
        const outcome = await workTwice(emails, (job, run) => {
          try {
            app.orm.transaction((tx) => {
              tx.update(orders).set({ status: "failed" })
                .where(eq(orders.id, job.payload.orderId)).run();
              assert.equal(job.fail("card declined"), true);
              if (run === 1) tx.rollback(); // the application changes its mind the first time
            });
          } catch (error) {
            if (!(error instanceof TransactionRollbackError)) throw error;
          }
        });
        assertFailedOnceCommitted(app, outcome);
        assert.equal(allOrders(app)[0].status, "failed");
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
