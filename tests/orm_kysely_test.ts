// Kysely (SqliteDialect on better-sqlite3) and honker-ts on one connection. Kysely's
// transactions are asynchronous over a synchronous driver: a transaction stays open on the
// connection across every await inside it, which is where honker-ts's own writes must keep out.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { sleep } from "./_helpers.ts";
import {
  assertFailedOnceCommitted,
  holdHandler,
  liveJobs,
  ordersDoneByWorker,
  withApp,
  workTwice,
} from "./_orm.ts";
import { KYSELY_STACK } from "./fixtures/orm_stacks.ts";
import type { EmailJob, KyselyApp } from "./fixtures/orm_stacks.ts";

/** The orders as Kysely reads them. */
function allOrders(app: KyselyApp) {
  return app.orm.selectFrom("orders").selectAll().orderBy("id").execute();
}

/** Thrown to make Kysely roll its transaction back. */
class Rollback extends Error {}

const skip = KYSELY_STACK.skip;

describe("Kysely on better-sqlite3", () => {
  it(
    "an order inserted in Kysely's transaction and the job enqueued in it commit together, across awaits",
    { skip },
    withApp(KYSELY_STACK, async (app) => {
      const emails = app.db.queue<EmailJob>("emails");
      const orderId = await app.orm.transaction().execute(async (trx) => {
        const { id } = await trx.insertInto("orders").values({ email: "ada@example.com" })
          .returning("id").executeTakeFirstOrThrow();
        await sleep(20); // a call to a payment provider, say
        emails.enqueue({ orderId: id });
        return id;
      });
      assert.deepEqual((await allOrders(app)).map((o) => o.email), ["ada@example.com"]);
      assert.deepEqual(emails.claimOne("test")?.payload, { orderId });
    }),
  );

  it(
    "Kysely's transaction that throws after an await drops the order and its job",
    { skip },
    withApp(KYSELY_STACK, async (app) => {
      const emails = app.db.queue<EmailJob>("emails");
      await assert.rejects(
        app.orm.transaction().execute(async (trx) => {
          await trx.insertInto("orders").values({ id: 1, email: "ada@example.com" }).execute();
          emails.enqueue({ orderId: 1 });
          await sleep(20);
          throw new Error("payment declined");
        }),
        /payment declined/,
      );
      assert.deepEqual(await allOrders(app), []);
      assert.equal(liveJobs(app), 0);
      // The connection is usable afterwards: honker-ts left no savepoint behind.
      await app.orm.transaction().execute(async (trx) => {
        await trx.insertInto("orders").values({ id: 2, email: "bob@example.com" }).execute();
        emails.enqueue({ orderId: 2 });
      });
      assert.equal((await allOrders(app)).length, 1);
      assert.equal(liveJobs(app), 1);
    }),
  );

  it(
    "a worker in another process does the job: marks the order through Kysely and acks in the same transaction",
    { skip, timeout: 60_000 },
    withApp(KYSELY_STACK, async (app, path) => {
      const emails = app.db.queue<EmailJob>("emails");
      const pid = await ordersDoneByWorker(
        KYSELY_STACK.id,
        path,
        (email) =>
          app.orm.transaction().execute(async (trx) => {
            const { id } = await trx.insertInto("orders").values({ email }).returning("id")
              .executeTakeFirstOrThrow();
            emails.enqueue({ orderId: id });
          }),
      );
      assert.deepEqual(
        (await allOrders(app)).map((o) => o.emailed_by),
        [`worker ${pid}`, `worker ${pid}`],
      );
      assert.equal(liveJobs(app), 0);
    }),
  );

  it(
    "work()'s ack waits out Kysely's transaction open across an await, then commits on its own: rolled back, the job still ran once and never runs again",
    { skip, timeout: 20_000 },
    withApp(KYSELY_STACK, async (app) => {
      const held = await holdHandler(app);
      await assert.rejects(
        app.orm.transaction().execute(async (trx) => {
          await trx.insertInto("orders").values({ email: "ada@example.com" }).execute();
          held.release();
          await held.returned();
          await sleep(300); // work() wants to ack now
          assert.equal(liveJobs(app), 1, "the ack must not run inside Kysely's transaction");
          throw new Rollback();
        }),
        Rollback,
      );
      await held.assertAckedOnce();
      assert.deepEqual(await allOrders(app), []);
    }),
  );

  it(
    "a handler's job.fail() inside Kysely's transaction joins it: rolled back, the job runs again; committed, it is dead and the order marked failed",
    { skip, timeout: 20_000 },
    withApp(KYSELY_STACK, async (app) => {
      const emails = app.db.queue<EmailJob>("emails");
      await app.orm.insertInto("orders").values({ id: 1, email: "ada@example.com" }).execute();
      emails.enqueue({ orderId: 1 });
      const outcome = await workTwice(emails, async (job, run) => {
        try {
          await app.orm.transaction().execute(async (trx) => {
            await trx.updateTable("orders").set({ status: "failed" })
              .where("id", "=", job.payload.orderId).execute();
            assert.equal(job.fail("card declined"), true);
            await sleep(20);
            if (run === 1) throw new Rollback(); // the application changes its mind at first
          });
        } catch (error) {
          if (!(error instanceof Rollback)) throw error;
        }
      });
      assertFailedOnceCommitted(app, outcome);
      assert.equal((await allOrders(app))[0].status, "failed");
    }),
  );

  it(
    "a honker-ts call from other code while Kysely's transaction is open joins it, where a Kysely query from that code waits (one connection: Kysely queues only its own queries)",
    { skip, timeout: 20_000 },
    withApp(KYSELY_STACK, async (app) => {
      const emails = app.db.queue<EmailJob>("emails");
      let release = () => {};
      const paymentDone = new Promise<void>((resolve) => (release = resolve));
      const checkout = app.orm.transaction().execute(async (trx) => {
        await trx.insertInto("orders").values({ id: 1, email: "ada@example.com" }).execute();
        await paymentDone;
        throw new Rollback();
      });
      await sleep(20);
      // Another request, while checkout awaits its payment:
      const otherQuery = app.orm.selectFrom("orders").selectAll().execute();
      emails.enqueue({ orderId: 99 });
      assert.equal(app.db.driver.inTransaction(), true);
      release();
      await assert.rejects(checkout, Rollback);
      assert.deepEqual(await otherQuery, [], "Kysely ran the other query after the rollback");
      assert.equal(liveJobs(app), 0, "the other request's job was rolled back with checkout");
    }),
  );
});
