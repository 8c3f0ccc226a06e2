// The statements on honker-ts's hot paths cost the same with bound values as with the same
// values written into the SQL, on every driver: none is re-prepared at each call.
//
// SQLite 3.54 (bun:sqlite, better-sqlite3 13) re-prepares a statement at every new binding
// when a sorting statement (ORDER BY, GROUP BY, min(), max()) compares a column with a bare
// parameter: the planner looks at the value to see whether the order is fixed by it. `work()`'s
// look cost 53 µs bound against 9 with literals on Bun, and 85 against 10 on better-sqlite3.
// tests/sql_style_test.ts holds the rule that prevents it; this test measures the result.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Database, SqlValue } from "../mod.ts";
import { claimLookParams, JOB_CLAIM_LOOK, JOB_NEXT_CLAIM_AT } from "../core/queue/claim_sql.ts";
import { JOB_EVENTS_READ } from "../core/queue/events_sql.ts";
import { EVENT_READ_SINCE } from "../core/stream/sql.ts";
import { NOTIFICATION_READ_SINCE } from "../core/notify/sql.ts";
import { driverMatrix } from "./_drivers.ts";
import { withDb } from "./_db.ts";

/** One hot statement with the values it is bound with. */
interface HotStatement {
  name: string;
  sql: string;
  params: SqlValue[];
}

const HOT: HotStatement[] = [
  { name: "work()'s look", sql: JOB_CLAIM_LOOK, params: claimLookParams("q", 8) },
  { name: "the next claim's time", sql: JOB_NEXT_CLAIM_AT, params: ["q", "q", "q"] },
  { name: "a stream read", sql: EVENT_READ_SINCE, params: ["orders", 0, 10] },
  { name: "a notification read", sql: NOTIFICATION_READ_SINCE, params: ["ch", 0, 10] },
  { name: "a job events read", sql: JOB_EVENTS_READ, params: [0, "q", 10] },
];

/** `sql` with its parameters written in as literals, in order. */
function withLiterals(sql: string, params: SqlValue[]): string {
  let next = 0;
  return sql.replace(/\?(\/\*wanted\*\/)?/g, () => {
    const value = params[next++];
    return typeof value === "string" ? `'${value.replaceAll("'", "''")}'` : String(value);
  });
}

/** Microseconds per call of `run`, over `calls` calls. */
function perCallUs(run: () => unknown, calls: number): number {
  const started = performance.now();
  for (let i = 0; i < calls; i++) run();
  return ((performance.now() - started) * 1000) / calls;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Median µs per call bound and with literals, over rounds that alternate the two. */
function compare(db: Database, statement: HotStatement): { bound: number; literal: number } {
  const literalSql = withLiterals(statement.sql, statement.params);
  const bound = () => db.driver.all(statement.sql, statement.params);
  const literal = () => db.driver.all(literalSql);
  assert.deepEqual(bound(), literal(), `${statement.name}: the literal form reads other rows`);
  perCallUs(bound, 100);
  perCallUs(literal, 100);
  const rounds = { bound: [] as number[], literal: [] as number[] };
  for (let round = 0; round < 9; round++) {
    rounds.bound.push(perCallUs(bound, 200));
    rounds.literal.push(perCallUs(literal, 200));
  }
  return { bound: median(rounds.bound), literal: median(rounds.literal) };
}

/** Jobs, events and notifications for the statements to read. */
function seed(db: Database): void {
  const queue = db.queue<number>("q", { events: true });
  queue.enqueueMany(Array.from({ length: 50 }, (_, i) => i));
  queue.claimOne("w")?.ack();
  db.stream<number>("orders").publishMany(Array.from({ length: 50 }, (_, i) => i));
  for (let i = 0; i < 20; i++) db.notify("ch", { i });
}

for (const entry of driverMatrix()) {
  describe(`${entry.id}: hot statements are not re-prepared at each call`, () => {
    it(
      "each costs at most twice its literal form, bound with new values at every call",
      { skip: entry.skip, timeout: 60_000 },
      withDb(entry, (db) => {
        seed(db);
        const slow: string[] = [];
        for (const statement of HOT) {
          const { bound, literal } = compare(db, statement);
          // A re-prepare costs 4–8× the run; 2× plus 3 µs leaves room for a noisy machine.
          if (bound > literal * 2 + 3) {
            slow.push(`${statement.name}: ${bound.toFixed(1)} µs bound, ${literal.toFixed(1)} µs`);
          }
        }
        assert.deepEqual(slow, [], "re-prepared at every call:\n" + slow.join("\n"));
      }),
    );
  });
}
