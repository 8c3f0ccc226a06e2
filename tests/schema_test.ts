// Typed payloads through Standard Schema: validated on write and on claim/read.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { open } from "../mod.ts";
import type { StandardSchemaV1 } from "../mod.ts";
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

describe("payload schemas", () => {
  it("queue: validates on enqueue (nothing written) and stores the validator's output", async () => {
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
    assert.deepEqual(q.claimOne("w")?.payload, { to: "a@b.c", attempts: 0 });
    db.close();
  });

  it("queue: a job whose payload no longer validates goes to the dead letters on claim", async () => {
    const db = await open(tempDbPath());
    db.driver.run(
      "INSERT INTO _honker_live (queue, payload, priority) VALUES ('emails', '{\"to\":5}', 9)",
    );
    const q = db.queue("emails", { schema: EMAIL });
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
