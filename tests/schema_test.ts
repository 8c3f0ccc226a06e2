// Typed payloads through Standard Schema: the caller's payload is validated on write and stored
// as given; it is validated and transformed once, on claim/read.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { open } from "../mod.ts";
import type {
  Database,
  Queue,
  QueueOptions,
  StandardSchemaV1,
  Stream,
  StreamOptions,
} from "../mod.ts";
import { countRows } from "./_db.ts";
import { tempDbPath } from "./_helpers.ts";

type Email = { to: string; attempts: number };

/** A schema in the shape zod/valibot/arktype expose; it also fills a default. */
const EMAIL: StandardSchemaV1<unknown, Email> = {
  "~standard": {
    version: 1,
    vendor: "test",
    validate(value) {
      const v = value as { to?: unknown; attempts?: unknown } | null;
      if (typeof v?.to !== "string" || !v.to.includes("@")) {
        return { issues: [{ message: "must be an email address", path: ["to"] }] };
      }
      return { value: { to: v.to, attempts: typeof v.attempts === "number" ? v.attempts : 0 } };
    },
  },
};

/** Euros in, cents out: a transforming schema, as `z.number().transform((e) => e * 100)` is. */
const EUROS_TO_CENTS: StandardSchemaV1<number, number> = {
  "~standard": {
    version: 1,
    vendor: "test",
    validate: (value) =>
      typeof value === "number" && Number.isFinite(value)
        ? { value: Math.round(value * 100) }
        : { issues: [{ message: "must be an amount in euros" }] },
  },
};

type PriceIn = { euros: number };
type PriceOut = { cents: number };

/** A transforming schema whose input and output types differ. */
const PRICE: StandardSchemaV1<PriceIn, PriceOut> = {
  "~standard": {
    version: 1,
    vendor: "test",
    validate(value) {
      const euros = (value as { euros?: unknown } | null)?.euros;
      return typeof euros === "number"
        ? { value: { cents: Math.round(euros * 100) } }
        : { issues: [{ message: "must be a number", path: ["euros"] }] };
    },
  },
};

/**
 * `db.queue()` typed the way `QueueOptions` infers it from a schema: its input for `enqueue()`,
 * its output for jobs. (`Database.queue()` itself passes both through once core/database.ts
 * declares them.)
 */
function typedQueue<T, In>(db: Database, name: string, options: QueueOptions<T, In>): Queue<T, In> {
  return db.queue(name, options as QueueOptions) as unknown as Queue<T, In>;
}

/** `db.stream()` typed the way `StreamOptions` infers it from a schema. */
function typedStream<T, In>(
  db: Database,
  topic: string,
  options: StreamOptions<T, In>,
): Stream<T, In> {
  return db.stream(topic, options as StreamOptions) as unknown as Stream<T, In>;
}

describe("payload schemas", () => {
  it("queue: a transforming schema is applied once: the handler gets cents for the euros enqueued", async () => {
    const db = await open(tempDbPath());
    try {
      const prices = typedQueue(db, "prices", { schema: EUROS_TO_CENTS });
      const id = prices.enqueue(12.5);
      // Stored as the caller gave it, so honker's bindings and a schema-less handle read euros.
      assert.equal(
        db.driver.get<{ payload: string }>("SELECT payload FROM _honker_live")?.payload,
        "12.5",
      );
      assert.equal(prices.getJob(id)?.payload, 1250);
      assert.equal(prices.claimOne("w")?.payload, 1250);
      prices.enqueueMany([1, 2]);
      const stop = new AbortController();
      const seen: number[] = [];
      await prices.work((job) => {
        seen.push(job.payload);
        if (seen.length === 2) stop.abort();
      }, { signal: stop.signal });
      assert.deepEqual(seen, [100, 200]);
    } finally {
      db.close();
    }
  });

  it("queue: enqueue() takes the schema's input type and jobs carry its output type", async () => {
    const db = await open(tempDbPath());
    try {
      const prices = typedQueue(db, "prices", { schema: PRICE });
      const id = prices.enqueue({ euros: 12.5 });
      // @ts-expect-error: enqueue() takes what the schema accepts, not what it produces.
      assert.throws(() => prices.enqueue({ cents: 1 }), /must be a number at \$\.euros/);
      const job = prices.claimOne("w");
      const cents: number | undefined = job?.payload.cents;
      assert.equal(cents, 1250);
      job?.fail("boom");
      const [dead] = prices.deadLetters();
      // The dead letters hold what was enqueued: requeueDead() puts exactly that back.
      const euros: number = dead.payload.euros;
      assert.equal(euros, 12.5);
      assert.equal(dead.id, id);
    } finally {
      db.close();
    }
  });

  it("stream: a transforming schema is applied once, on readSince(), waitForEvents() and subscribe()", async () => {
    const db = await open(tempDbPath());
    try {
      const amounts = typedStream(db, "amounts", { schema: EUROS_TO_CENTS });
      amounts.publish(12.5);
      amounts.publishMany([1]);
      assert.deepEqual(
        db.driver.all<{ payload: string }>("SELECT payload FROM _honker_stream").map((r) =>
          r.payload
        ),
        ["12.5", "1"],
      );
      assert.deepEqual(amounts.readSince(0).map((e) => e.payload), [1250, 100]);
      const waited = await amounts.waitForEvents(0, { limit: 1, timeoutMs: 1000 });
      assert.equal(waited[0].payload, 1250);
      const seen: number[] = [];
      for await (const event of amounts.subscribe("c", { signal: AbortSignal.timeout(5000) })) {
        seen.push(event.payload);
        if (seen.length === 2) break;
      }
      assert.deepEqual(seen, [1250, 100]);
      const prices = typedStream(db, "prices", { schema: PRICE });
      prices.publish({ euros: 2 });
      const cents: number = prices.readSince(0)[0].payload.cents;
      assert.equal(cents, 200);
    } finally {
      db.close();
    }
  });

  it("queue: validates on enqueue (nothing written) and stores the caller's payload", async () => {
    const db = await open(tempDbPath());
    const q = db.queue("emails", { schema: EMAIL });
    assert.throws(
      () => q.enqueue({ to: "nobody" } as Email),
      /Cannot enqueue to queue "emails": payload does not match the schema \(must be an email address at \$\.to\)/,
    );
    assert.throws(
      () => q.enqueueMany([{ to: "a@b.c" } as Email, { to: "x" } as Email]),
      /payload 1/,
    );
    assert.equal(countRows(db, "_honker_live"), 0);
    q.enqueue({ to: "a@b.c" } as Email);
    assert.equal(
      db.driver.get<{ p: string }>("SELECT payload AS p FROM _honker_live")?.p,
      '{"to":"a@b.c"}',
    );
    assert.deepEqual(q.claimOne("w")?.payload, { to: "a@b.c", attempts: 0 });
    db.close();
  });

  it("queue: a job whose payload no longer validates goes to the dead letters on claim", async () => {
    const db = await open(tempDbPath());
    const bad = db.driver.run(
      "INSERT INTO _honker_live (queue, payload, priority) VALUES ('emails', '{\"to\":5}', 9)",
    ).lastInsertRowid;
    const q = db.queue("emails", { schema: EMAIL });
    assert.throws(
      () => q.getJob(bad),
      new RegExp(`the payload of job ${bad} does not match the schema \\(must be an email`),
    );
    q.enqueue({ to: "ok@example.com", attempts: 1 });
    const job = q.claimOne("w");
    assert.deepEqual(job?.payload, { to: "ok@example.com", attempts: 1 });
    const [dead] = q.deadLetters();
    assert.match(
      dead.lastError ?? "",
      /payload does not match the schema: must be an email address at \$\.to/,
    );
    db.close();
  });

  it("stream: validates on publish, and a read of a bad event throws naming its offset", async () => {
    const db = await open(tempDbPath());
    const s = db.stream("mail", { schema: EMAIL });
    assert.throws(() => s.publish({ to: "x" } as Email), /payload does not match the schema/);
    assert.equal(countRows(db, "_honker_stream"), 0);
    const offset = db.stream("mail").publish({ to: 1 });
    assert.throws(
      () => s.readSince(0),
      new RegExp(`event at offset ${offset} does not match the schema`),
    );
    db.close();
  });

  it("refuses a non-schema and an asynchronous schema", async () => {
    const db = await open(tempDbPath());
    assert.throws(
      () => db.queue("q", { schema: {} as never }),
      /schema must implement Standard Schema v1/,
    );
    const slow: StandardSchemaV1 = {
      "~standard": { version: 1, vendor: "test", validate: (value) => Promise.resolve({ value }) },
    };
    assert.throws(() => db.queue("q", { schema: slow }).enqueue(1), /validates asynchronously/);
    assert.equal(countRows(db, "_honker_live"), 0);
    db.close();
  });
});
