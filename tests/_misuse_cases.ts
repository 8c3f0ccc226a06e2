/**
 * Calls of every public function with wrong types, NaN, Infinity, negative numbers, empty
 * strings and non-JSON payloads, each with the error it must raise before anything is written,
 * and every call after `close()`. Used by `fault_test.ts`.
 */

import type { Database, Job, Lock, Outbox, Queue, Scheduler, Stream, Transaction } from "../mod.ts";

/** What the cases are called on: one open Database and handles of each kind. */
export interface MisuseFixture {
  db: Database;
  queue: Queue<unknown>;
  stream: Stream<unknown>;
  scheduler: Scheduler;
  job: Job<unknown>;
  lock: Lock;
  outbox: Outbox<unknown>;
  /** A transaction whose callback has returned. */
  finishedTx: Transaction;
}

/** An error constructor. */
// deno-lint-ignore no-explicit-any
export type ErrorClass = new (...args: any[]) => Error;

/** One wrong call and the error it must raise. */
export interface MisuseCase {
  name: string;
  call: (f: MisuseFixture) => unknown;
  error: ErrorClass;
  message: RegExp;
}

const T = TypeError;
const R = RangeError;
const fn = () => {};
const cyclic: Record<string, unknown> = { a: 1 };
cyclic.self = cyclic;
const cron = "* * * * *";

function c(name: string, call: (f: MisuseFixture) => unknown, error: ErrorClass, message: RegExp) {
  return { name, call, error, message };
}

class Money {
  cents: number;
  constructor(cents: number) {
    this.cents = cents;
  }
}

/** An unknown option `key`, and the known one the message must suggest (if any). */
function unknown(key: string, suggested?: string): RegExp {
  const hint = suggested === undefined ? "" : ` \\(did you mean "${suggested}"\\?\\)`;
  return new RegExp(`: unknown option "${key}"${hint}`);
}

/** Payloads JSON cannot store faithfully, with the path the error must name. */
const BAD_PAYLOADS: Array<[string, unknown, RegExp]> = [
  ["BigInt", 1n, /BigInt at \$\)/],
  ["nested BigInt", { n: [1, 2n] }, /BigInt at \$\.n\[1\]/],
  ["NaN", NaN, /NaN at \$/],
  ["Infinity", { x: -Infinity }, /-Infinity at \$\.x/],
  ["undefined", undefined, /undefined at \$/],
  ["function", { f: fn }, /function at \$\.f/],
  ["symbol", Symbol("s"), /symbol at \$/],
  ["cycle", cyclic, /circular reference at \$\.self/],
  ["Map", new Map([[1, 2]]), /Map at \$/],
  ["typed array", { b: new Uint8Array(2) }, /Uint8Array at \$\.b/],
  // JSON.stringify accepts these, but what comes back is not what was given.
  ["Date", { at: new Date(0) }, /Date at \$\.at: JSON turns it into a string/],
  ["toJSON", { v: { toJSON: () => 1 } }, /object with toJSON at \$\.v/],
  ["class instance", [new Money(1)], /Money instance at \$\[0\]/],
  ["symbol key", { [Symbol("k")]: 1 }, /symbol key at \$/],
];

function payloadCases(): MisuseCase[] {
  const out: MisuseCase[] = [];
  for (const [label, payload, path] of BAD_PAYLOADS) {
    const msg = new RegExp(`not JSON-serialisable \\(${path.source}`);
    out.push(
      c(`enqueue(${label})`, (f) => f.queue.enqueue(payload), T, msg),
      c(`enqueueMany([1, ${label}])`, (f) => f.queue.enqueueMany([1, payload]), T, msg),
      c(`publish(${label})`, (f) => f.stream.publish(payload), T, msg),
      c(`publishMany([${label}])`, (f) => f.stream.publishMany([payload]), T, msg),
      c(`notify(c, ${label})`, (f) => f.db.notify("c", payload), T, msg),
      c(`saveResult(1, ${label})`, (f) => f.db.saveResult(1, payload), T, msg),
      c(`outbox.enqueue(${label})`, (f) => f.outbox.enqueue(payload), T, msg),
    );
    // A schedule's payload defaults to null, so `payload: undefined` means "no payload".
    if (payload === undefined) continue;
    out.push(
      c(
        `scheduler.add({ payload: ${label} })`,
        (f) => f.scheduler.add({ name: "s", queue: "q", schedule: cron, payload }),
        T,
        msg,
      ),
    );
  }
  return out;
}

/** Database-level calls. */
function databaseCases(): MisuseCase[] {
  return [
    c("queue('')", (f) => f.db.queue(""), T, /the queue name must not be empty/),
    c("queue(5)", (f) => f.db.queue(5 as never), T, /the queue name must be a string, got 5/),
    c("queue(q, 'x')", (f) => f.db.queue("q", "x" as never), T, /options must be an object/),
    c(
      "visibilityTimeoutS 0",
      (f) => f.db.queue("q", { visibilityTimeoutS: 0 }),
      R,
      /visibilityTimeoutS must be at least 1, got 0/,
    ),
    c(
      "visibilityTimeoutS NaN",
      (f) => f.db.queue("q", { visibilityTimeoutS: NaN }),
      T,
      /visibilityTimeoutS must be an integer, got NaN/,
    ),
    c(
      "maxAttempts Infinity",
      (f) => f.db.queue("q", { maxAttempts: Infinity }),
      T,
      /maxAttempts must be an integer, got Infinity/,
    ),
    c(
      "maxAttempts -1",
      (f) => f.db.queue("q", { maxAttempts: -1 }),
      R,
      /maxAttempts must be at least 1, got -1/,
    ),
    c("stream('')", (f) => f.db.stream(""), T, /the topic must not be empty/),
    c("stream(null)", (f) => f.db.stream(null as never), T, /the topic must be a string, got null/),
    c("notify('', 1)", (f) => f.db.notify("", 1), T, /the channel must not be empty/),
    c(
      "notify(c, 1, { tx: {} })",
      (f) => f.db.notify("c", 1, { tx: {} as never }),
      T,
      /the \{ tx \} given is not the transaction open/,
    ),
    c(
      "notify with a finished tx",
      (f) => f.db.notify("c", 1, { tx: f.finishedTx }),
      T,
      /it has finished/,
    ),
    c("listen('')", (f) => f.db.listen(""), T, /the channel must not be empty/),
    c(
      "listen idlePollMs 0",
      (f) => f.db.listen("c", { idlePollMs: 0 }),
      R,
      /idlePollMs must be a positive number or null, got 0/,
    ),
    c(
      "listen idlePollMs NaN",
      (f) => f.db.listen("c", { idlePollMs: NaN }),
      R,
      /idlePollMs must be a positive number or null, got NaN/,
    ),
    c(
      "listen schema {}",
      (f) => f.db.listen("c", { schema: {} as never }),
      T,
      /schema must implement Standard Schema v1/,
    ),
    c(
      "pruneNotifications maxKeep -1",
      (f) => f.db.pruneNotifications({ maxKeep: -1 }),
      R,
      /maxKeep must not be negative, got -1/,
    ),
    c(
      "pruneNotifications olderThanS NaN",
      (f) => f.db.pruneNotifications({ olderThanS: NaN }),
      T,
      /olderThanS must be a finite number, got NaN/,
    ),
    c(
      "pruneNotifications(5)",
      (f) => f.db.pruneNotifications(5 as never),
      T,
      /options must be an object, got 5/,
    ),
    c("tryLock('')", (f) => f.db.tryLock(""), T, /the lock name must not be empty/),
    c("tryLock owner ''", (f) => f.db.tryLock("l", { owner: "" }), T, /owner must not be empty/),
    c("tryLock ttlS 0", (f) => f.db.tryLock("l", { ttlS: 0 }), R, /ttlS must be at least 1, got 0/),
    c("tryLock ttlS NaN", (f) => f.db.tryLock("l", { ttlS: NaN }), T, /ttlS must be an integer/),
    c("tryLock ttlS -5", (f) => f.db.tryLock("l", { ttlS: -5 }), R, /ttlS must be at least 1/),
    c(
      "tryLock(l, o, 10)",
      (f) => f.db.tryLock("l", "o" as never),
      T,
      /options must be an object, got "o"/,
    ),
    c(
      "withLock(l, 5)",
      (f) => f.db.withLock("l", 5 as never),
      T,
      /the callback must be a function/,
    ),
    c(
      "withLock waitMs -1",
      (f) => f.db.withLock("l", fn, { waitMs: -1 }),
      R,
      /waitMs must be a non-negative number of milliseconds/,
    ),
    c(
      "withLock waitMs NaN",
      (f) => f.db.withLock("l", fn, { waitMs: NaN }),
      R,
      /waitMs must be a non-negative number .* got NaN/,
    ),
    c(
      "withLock waitMs of 36 days",
      (f) => f.db.withLock("l", fn, { waitMs: 3_000_000_000 }),
      R,
      /waitMs must be at most 2147483647 ms/,
    ),
    c(
      "withLock ttlS Infinity",
      (f) => f.db.withLock("l", fn, { ttlS: Infinity }),
      T,
      /ttlS must be an integer, got Infinity/,
    ),
    c(
      "withLock owner ''",
      (f) => f.db.withLock("l", fn, { owner: "" }),
      T,
      /owner must not be empty/,
    ),
    c(
      "tryRateLimit(r, 1, 1)",
      (f) => f.db.tryRateLimit("r", 1 as never),
      T,
      /options must be an object, got 1/,
    ),
    c(
      "tryRateLimit('', 1, 1)",
      (f) => f.db.tryRateLimit("", { limit: 1, perS: 1 }),
      T,
      /the rate limit name must not be empty/,
    ),
    c(
      "tryRateLimit(r, 0, 1)",
      (f) => f.db.tryRateLimit("r", { limit: 0, perS: 1 }),
      R,
      /limit must be at least 1, got 0/,
    ),
    c(
      "tryRateLimit(r, 1.5, 1)",
      (f) => f.db.tryRateLimit("r", { limit: 1.5, perS: 1 }),
      T,
      /limit must be an integer, got 1.5/,
    ),
    c(
      "tryRateLimit(r, 1, Infinity)",
      (f) => f.db.tryRateLimit("r", { limit: 1, perS: Infinity }),
      T,
      /perS must be an integer, got Infinity/,
    ),
    c(
      "sweepRateLimits()",
      (f) => f.db.sweepRateLimits(undefined as never),
      T,
      /olderThanS must be a finite number, got undefined/,
    ),
    c(
      "sweepRateLimits(-1)",
      (f) => f.db.sweepRateLimits({ olderThanS: -1 }),
      R,
      /olderThanS must not be negative, got -1/,
    ),
    c(
      "sweepRateLimits('1')",
      (f) => f.db.sweepRateLimits({ olderThanS: "1" as never }),
      T,
      /olderThanS must be a finite number, got "1"/,
    ),
    c("transaction(5)", (f) => f.db.transaction(5 as never), T, /the callback must be a function/),
    c(
      "transaction(async fn)",
      (f) => f.db.transaction(async () => await f.queue.enqueue(1)),
      T,
      /returned a Promise/,
    ),
    c("outbox('', fn)", (f) => f.db.outbox("", fn), T, /the outbox name must not be empty/),
    c("outbox(o, 5)", (f) => f.db.outbox("o", 5 as never), T, /delivery must be a function/),
    c(
      "outbox maxAttempts 0",
      (f) => f.db.outbox("o", fn, { maxAttempts: 0 }),
      R,
      /maxAttempts must be at least 1, got 0/,
    ),
    c(
      "outbox baseBackoffS -1",
      (f) => f.db.outbox("o", fn, { baseBackoffS: -1 }),
      R,
      /baseBackoffS must not be negative, got -1/,
    ),
    c("outbox.run(5)", (f) => f.outbox.run(5 as never), T, /options must be an object, got 5/),
    c(
      "queue option visibilityTimeout",
      (f) => f.db.queue("q", { visibilityTimeout: 30 } as never),
      T,
      unknown("visibilityTimeout", "visibilityTimeoutS"),
    ),
    c(
      "stream option scheme",
      (f) => f.db.stream("t", { scheme: 1 } as never),
      T,
      unknown("scheme", "schema"),
    ),
    c(
      "notify option txn",
      (f) => f.db.notify("c", 1, { txn: 1 } as never),
      T,
      unknown("txn", "tx"),
    ),
    c(
      "listen option idlePoll",
      (f) => f.db.listen("c", { idlePoll: 1 } as never),
      T,
      unknown("idlePoll", "idlePollMs"),
    ),
    c(
      "pruneNotifications option olderThan",
      (f) => f.db.pruneNotifications({ olderThan: 60 } as never),
      T,
      unknown("olderThan", "olderThanS"),
    ),
    c(
      "listen option idlePollS (seconds, renamed)",
      (f) => f.db.listen("c", { idlePollS: 1 } as never),
      T,
      unknown("idlePollS", "idlePollMs"),
    ),
    c(
      "withLock option wait",
      (f) => f.db.withLock("l", fn, { wait: 5 } as never),
      T,
      unknown("wait", "waitMs"),
    ),
    c(
      "withLock option waitS (seconds, renamed)",
      (f) => f.db.withLock("l", fn, { waitS: 5 } as never),
      T,
      unknown("waitS", "waitMs"),
    ),
    c(
      "tryLock option ttl",
      (f) => f.db.tryLock("l", { ttl: 5 } as never),
      T,
      unknown("ttl", "ttlS"),
    ),
    c(
      "tryRateLimit option per",
      (f) => f.db.tryRateLimit("r", { limit: 1, per: 60 } as never),
      T,
      unknown("per", "perS"),
    ),
    c(
      "sweepRateLimits option olderThan",
      (f) => f.db.sweepRateLimits({ olderThan: 60 } as never),
      T,
      unknown("olderThan", "olderThanS"),
    ),
    c(
      "outbox option retries",
      (f) => f.db.outbox("o", fn, { retries: 3 } as never),
      T,
      /: unknown option "retries" \(expected one of: maxAttempts, baseBackoffS, visibilityTimeoutS\)/,
    ),
    c(
      "outbox.enqueue option delayS",
      (f) => f.outbox.enqueue(1, { delayS: 5 } as never),
      T,
      unknown("delayS"),
    ),
    c(
      "outbox.run option worker",
      (f) => f.outbox.run({ worker: "w" } as never),
      T,
      unknown("worker", "workerId"),
    ),
    c(
      "tx.run after the transaction",
      (f) => f.finishedTx.run("SELECT 1"),
      Error,
      /the transaction is already finished/,
    ),
  ];
}

/** Queue and Job calls. */
function queueCases(): MisuseCase[] {
  const x = { x: 1 };
  return [
    c(
      "delayS -1",
      (f) => f.queue.enqueue(x, { delayS: -1 }),
      R,
      /delayS must not be negative, got -1/,
    ),
    c(
      "delayS NaN",
      (f) => f.queue.enqueue(x, { delayS: NaN }),
      T,
      /delayS must be a finite number, got NaN/,
    ),
    c(
      "delayS Infinity",
      (f) => f.queue.enqueue(x, { delayS: Infinity }),
      T,
      /delayS must be a finite number, got Infinity/,
    ),
    c(
      "delayS 1.5",
      (f) => f.queue.enqueue(x, { delayS: 1.5 }),
      R,
      /delayS must be whole seconds, got 1.5/,
    ),
    c(
      "runAt NaN",
      (f) => f.queue.enqueue(x, { runAt: NaN }),
      T,
      /runAt must be a Date or whole unix seconds, got NaN/,
    ),
    c(
      "runAt invalid Date",
      (f) => f.queue.enqueue(x, { runAt: new Date(NaN) }),
      R,
      /runAt is an invalid Date/,
    ),
    c(
      "runAt 'tomorrow'",
      (f) => f.queue.enqueue(x, { runAt: "tomorrow" as never }),
      T,
      /runAt must be a Date or whole unix seconds, got "tomorrow"/,
    ),
    c(
      "priority NaN",
      (f) => f.queue.enqueue(x, { priority: NaN }),
      T,
      /priority must be an integer, got NaN/,
    ),
    c(
      "priority Infinity",
      (f) => f.queue.enqueue(x, { priority: Infinity }),
      T,
      /priority must be an integer, got Infinity/,
    ),
    c(
      "enqueue maxAttempts 0",
      (f) => f.queue.enqueue(x, { maxAttempts: 0 }),
      R,
      /maxAttempts must be at least 1, got 0/,
    ),
    c(
      "expiresS -1",
      (f) => f.queue.enqueue(x, { expiresS: -1 }),
      R,
      /expiresS must not be negative, got -1/,
    ),
    c(
      "enqueue { delay: 10 } (BullMQ's name)",
      (f) => f.queue.enqueue(x, { delay: 10 } as never),
      T,
      unknown("delay", "delayS"),
    ),
    c(
      "enqueueMany { delay: 10 }",
      (f) => f.queue.enqueueMany([x], { delay: 10 } as never),
      T,
      unknown("delay", "delayS"),
    ),
    c(
      "enqueue { priorty: 1 }",
      (f) => f.queue.enqueue(x, { priorty: 1 } as never),
      T,
      unknown("priorty", "priority"),
    ),
    c(
      "runAt in milliseconds",
      (f) => f.queue.enqueue(x, { runAt: Date.now() + 60_000 }),
      R,
      /runAt must be whole unix seconds, got \d+, which looks like milliseconds/,
    ),
    c(
      "runAt a negative millisecond instant",
      (f) => f.queue.enqueue(x, { runAt: -1e12 }),
      R,
      /looks like milliseconds/,
    ),
    c(
      "enqueue options null",
      (f) => f.queue.enqueue(x, null as never),
      T,
      /options must be an object, got null/,
    ),
    c(
      "enqueue with a finished tx",
      (f) => f.queue.enqueue(x, { tx: f.finishedTx }),
      T,
      /the \{ tx \} given is not the transaction open/,
    ),
    c(
      "enqueueMany('abc')",
      (f) => f.queue.enqueueMany("abc" as never),
      T,
      /payloads must be an array/,
    ),
    c("claimBatch('', 1)", (f) => f.queue.claimBatch("", 1), T, /workerId must not be empty/),
    c("claimBatch(w, 0)", (f) => f.queue.claimBatch("w", 0), R, /n must be at least 1, got 0/),
    c("claimBatch(w, -1)", (f) => f.queue.claimBatch("w", -1), R, /n must be at least 1, got -1/),
    c(
      "claimBatch(w, NaN)",
      (f) => f.queue.claimBatch("w", NaN),
      T,
      /n must be an integer, got NaN/,
    ),
    c(
      "claimBatch(w, Infinity)",
      (f) => f.queue.claimBatch("w", Infinity),
      T,
      /n must be an integer, got Infinity/,
    ),
    c(
      "claimBatch(w, 1.5)",
      (f) => f.queue.claimBatch("w", 1.5),
      T,
      /n must be an integer, got 1.5/,
    ),
    c(
      "claimBatch(w, '2')",
      (f) => f.queue.claimBatch("w", "2" as never),
      T,
      /n must be an integer, got "2"/,
    ),
    c("claimOne(5)", (f) => f.queue.claimOne(5 as never), T, /workerId must be a string, got 5/),
    c("claim('')", (f) => f.queue.claim(""), T, /workerId must not be empty/),
    c(
      "claim idlePollMs -1",
      (f) => f.queue.claim("w", { idlePollMs: -1 }),
      R,
      /idlePollMs must be a positive number or null, got -1 \(milliseconds, at least 1\)/,
    ),
    c(
      // Seconds passed as milliseconds: 0.05 ms would poll in a busy loop.
      "claim idlePollMs 0.05",
      (f) => f.queue.claim("w", { idlePollMs: 0.05 }),
      R,
      /idlePollMs must be a positive number or null, got 0.05 \(milliseconds, at least 1\)/,
    ),
    c(
      "claim old option idlePollS",
      (f) => f.queue.claim("w", { idlePollS: 5 } as never),
      T,
      unknown("idlePollS", "idlePollMs"),
    ),
    c(
      "work old option idlePollS",
      (f) => f.queue.work(fn, { idlePollS: null } as never),
      T,
      unknown("idlePollS", "idlePollMs"),
    ),
    c("work(5)", (f) => f.queue.work(5 as never), T, /the handler must be a function/),
    c(
      "work concurrency 0",
      (f) => f.queue.work(fn, { concurrency: 0 }),
      R,
      /concurrency must be at least 1, got 0/,
    ),
    c(
      "work concurrency NaN",
      (f) => f.queue.work(fn, { concurrency: NaN }),
      T,
      /concurrency must be an integer, got NaN/,
    ),
    c(
      "work retryDelayS -1",
      (f) => f.queue.work(fn, { retryDelayS: -1 }),
      R,
      /retryDelayS must not be negative, got -1/,
    ),
    c(
      "work graceMs -1",
      (f) => f.queue.work(fn, { graceMs: -1 }),
      R,
      /graceMs must be a non-negative number of milliseconds, got -1/,
    ),
    c(
      // Every runtime fires a longer timer after 1 ms: the grace period would end at once.
      "work graceMs beyond a 32-bit timer",
      (f) => f.queue.work(fn, { graceMs: 2 ** 31 }),
      R,
      /graceMs must be at most 2147483647 ms/,
    ),
    c(
      "work workerId ''",
      (f) => f.queue.work(fn, { workerId: "" }),
      T,
      /workerId must not be empty/,
    ),
    c("ackBatch(w, '1')", (f) => f.queue.ackBatch("w", "1" as never), T, /ids must be an array/),
    c(
      "ackBatch(w, [0])",
      (f) => f.queue.ackBatch("w", [0]),
      R,
      /ids\[0\] must be at least 1, got 0/,
    ),
    c(
      "ackBatch(w, [1, 1.5])",
      (f) => f.queue.ackBatch("w", [1, 1.5]),
      T,
      /ids\[1\] must be an integer, got 1.5/,
    ),
    c("ackBatch('', [1])", (f) => f.queue.ackBatch("", [1]), T, /workerId must not be empty/),
    c(
      // The old order, ids first: refused, never taken as a worker id.
      "ackBatch([1], w)",
      (f) => f.queue.ackBatch([1] as never, "w" as never),
      T,
      /workerId must be a string, got an array/,
    ),
    c("cancel(NaN)", (f) => f.queue.cancel(NaN), T, /id must be an integer, got NaN/),
    c("cancel(-1)", (f) => f.queue.cancel(-1), R, /id must be at least 1, got -1/),
    c("cancel('1')", (f) => f.queue.cancel("1" as never), T, /id must be an integer, got "1"/),
    c(
      "getJob(Infinity)",
      (f) => f.queue.getJob(Infinity),
      T,
      /id must be an integer, got Infinity/,
    ),
    c("saveResult(0, 1)", (f) => f.db.saveResult(0, 1), R, /jobId must be at least 1, got 0/),
    c(
      "saveResult ttlS -1",
      (f) => f.db.saveResult(1, 1, { ttlS: -1 }),
      R,
      /ttlS must not be negative, got -1/,
    ),
    c(
      "saveResult { ttl: 60 }",
      (f) => f.db.saveResult(1, 1, { ttl: 60 } as never),
      T,
      unknown("ttl", "ttlS"),
    ),
    c("getResult(NaN)", (f) => f.db.getResult(NaN), T, /jobId must be an integer, got NaN/),
    c(
      "getResult schema {}",
      (f) => f.db.getResult(1, { schema: {} as never }),
      T,
      /Cannot get a result: schema must implement Standard Schema v1/,
    ),
    c(
      "getResult { schemas }",
      (f) => f.db.getResult(1, { schemas: {} } as never),
      T,
      unknown("schemas", "schema"),
    ),
    c(
      "deadLetters limit 0",
      (f) => f.queue.deadLetters({ limit: 0 }),
      R,
      /limit must be at least 1, got 0/,
    ),
    c(
      "deadLetters before -1",
      (f) => f.queue.deadLetters({ before: -1 }),
      R,
      /before must be at least 1, got -1/,
    ),
    c(
      "deadLetters('x')",
      (f) => f.queue.deadLetters("x" as never),
      T,
      /options must be an object, got "x"/,
    ),
    c(
      "deadLetters { limt: 5 }",
      (f) => f.queue.deadLetters({ limt: 5 } as never),
      T,
      unknown("limt", "limit"),
    ),
    c("requeueDead(0)", (f) => f.queue.requeueDead(0), R, /id must be at least 1, got 0/),
    c(
      "requeueDead { txn }",
      (f) => f.queue.requeueDead(1, { txn: 1 } as never),
      T,
      unknown("txn", "tx"),
    ),
    c(
      "purgeDead { olderThan: 60 }",
      (f) => f.queue.purgeDead({ olderThan: 60 } as never),
      T,
      unknown("olderThan", "olderThanS"),
    ),
    c(
      "purgeDead olderThanS -1",
      (f) => f.queue.purgeDead({ olderThanS: -1 }),
      R,
      /olderThanS must not be negative, got -1/,
    ),
    c("job.retry(-1)", (f) => f.job.retry(-1), R, /delayS must not be negative, got -1/),
    c("job.retry(NaN)", (f) => f.job.retry(NaN), T, /delayS must be a finite number, got NaN/),
    c("job.retry(1, 5)", (f) => f.job.retry(1, 5 as never), T, /error must be a string, got 5/),
    c("job.fail(5)", (f) => f.job.fail(5 as never), T, /error must be a string, got 5/),
    c(
      "job.heartbeat(NaN)",
      (f) => f.job.heartbeat(NaN),
      T,
      /extendS must be a finite number, got NaN/,
    ),
    c("job.heartbeat(-1)", (f) => f.job.heartbeat(-1), R, /extendS must not be negative, got -1/),
    c(
      "job.heartbeat(Infinity)",
      (f) => f.job.heartbeat(Infinity),
      T,
      /extendS must be a finite number, got Infinity/,
    ),
    c("lock.heartbeat(0)", (f) => f.lock.heartbeat(0), R, /ttlS must be at least 1, got 0/),
    c("lock.heartbeat(NaN)", (f) => f.lock.heartbeat(NaN), T, /ttlS must be an integer, got NaN/),
  ];
}

/** Stream and Scheduler calls. */
function streamAndSchedulerCases(): MisuseCase[] {
  const s = (extra: object) => ({ name: "s", queue: "q", schedule: cron, ...extra });
  return [
    c(
      "publish key 5",
      (f) => f.stream.publish(1, { key: 5 as never }),
      T,
      /key must be a string or null/,
    ),
    c(
      "publishMany('x')",
      (f) => f.stream.publishMany("x" as never),
      T,
      /payloads must be an array/,
    ),
    c("readSince(-1)", (f) => f.stream.readSince(-1), R, /offset must not be negative, got -1/),
    c("readSince(NaN)", (f) => f.stream.readSince(NaN), T, /offset must be an integer, got NaN/),
    c("readSince(0, 0)", (f) => f.stream.readSince(0, 0), R, /limit must be at least 1, got 0/),
    c(
      "readSince(0, Infinity)",
      (f) => f.stream.readSince(0, Infinity),
      T,
      /limit must be an integer, got Infinity/,
    ),
    c(
      "waitForEvents timeoutMs -1",
      (f) => f.stream.waitForEvents(0, { limit: 10, timeoutMs: -1 }),
      R,
      /timeoutMs must be a non-negative number of milliseconds or Infinity, got -1/,
    ),
    c(
      "waitForEvents timeoutMs NaN",
      (f) => f.stream.waitForEvents(0, { limit: 10, timeoutMs: NaN }),
      R,
      /timeoutMs must be a non-negative number of milliseconds or Infinity, got NaN/,
    ),
    c(
      // Read as seconds it was accepted, overflowed the timer and spun at full CPU.
      "waitForEvents timeoutMs of 36 days",
      (f) => f.stream.waitForEvents(0, { limit: 10, timeoutMs: 3_000_000_000 }),
      R,
      /timeoutMs must be at most 2147483647 ms \(about 24\.8 days\) or Infinity/,
    ),
    c(
      "waitForEvents timeoutMs '5'",
      (f) => f.stream.waitForEvents(0, { limit: 10, timeoutMs: "5" as never }),
      T,
      /timeoutMs must be a non-negative number of milliseconds or Infinity, got "5"/,
    ),
    c(
      "waitForEvents { timeout: 5000 }",
      (f) => f.stream.waitForEvents(0, { limit: 10, timeout: 5000 } as never),
      T,
      unknown("timeout", "timeoutMs"),
    ),
    c(
      "waitForEvents(-1)",
      (f) => f.stream.waitForEvents(-1),
      R,
      /offset must not be negative, got -1/,
    ),
    c(
      "waitForEvents limit 0",
      (f) => f.stream.waitForEvents(0, { limit: 0 }),
      R,
      /limit must be at least 1, got 0/,
    ),
    c(
      "waitForEvents(0, 10)",
      (f) => f.stream.waitForEvents(0, 10 as never),
      T,
      /options must be an object, got 10/,
    ),
    c(
      "readSince(0, 10, { timeoutMs }) (the waiting read is waitForEvents)",
      (f) => (f.stream.readSince as (...a: unknown[]) => unknown)(0, 10, { timeoutMs: 5 }),
      T,
      /readSince\(\) takes no options and never waits; to wait for events, use waitForEvents\(/,
    ),
    c(
      "publish { partitionKey }",
      (f) => f.stream.publish(1, { partitionKey: "k" } as never),
      T,
      /: unknown option "partitionKey" \(expected one of: tx, key\)/,
    ),
    c(
      "publishMany { keys }",
      (f) => f.stream.publishMany([1], { keys: "k" } as never),
      T,
      unknown("keys", "key"),
    ),
    c(
      "saveOffset { force }",
      (f) => f.stream.saveOffset("c", 1, { force: true } as never),
      T,
      unknown("force"),
    ),
    c(
      "saveOffset('', 1)",
      (f) => f.stream.saveOffset("", 1),
      T,
      /the consumer name must not be empty/,
    ),
    c(
      "saveOffset(c, -1)",
      (f) => f.stream.saveOffset("c", -1),
      R,
      /offset must not be negative, got -1/,
    ),
    c(
      "saveOffset(c, NaN)",
      (f) => f.stream.saveOffset("c", NaN),
      T,
      /offset must be an integer, got NaN/,
    ),
    c("getOffset('')", (f) => f.stream.getOffset(""), T, /the consumer name must not be empty/),
    c("subscribe('')", (f) => f.stream.subscribe(""), T, /the consumer name must not be empty/),
    c(
      "subscribe batchSize 0",
      (f) => f.stream.subscribe("c", { batchSize: 0 }),
      R,
      /batchSize must be at least 1, got 0/,
    ),
    c(
      "subscribe fromOffset -1",
      (f) => f.stream.subscribe("c", { fromOffset: -1 }),
      R,
      /fromOffset must not be negative, got -1/,
    ),
    c(
      "subscribe saveEveryMs NaN",
      (f) => f.stream.subscribe("c", { saveEveryMs: NaN }),
      R,
      /saveEveryMs must be a non-negative number of milliseconds, got NaN/,
    ),
    c(
      "subscribe idlePollMs 0",
      (f) => f.stream.subscribe("c", { idlePollMs: 0 }),
      R,
      /idlePollMs must be a positive number or null, got 0/,
    ),
    c(
      "subscribe option saveEveryS (seconds, renamed)",
      (f) => f.stream.subscribe("c", { saveEveryS: 1 } as never),
      T,
      unknown("saveEveryS", "saveEveryMs"),
    ),
    c(
      "subscribe option idlePollS (seconds, renamed)",
      (f) => f.stream.subscribe("c", { idlePollS: 1 } as never),
      T,
      unknown("idlePollS", "idlePollMs"),
    ),
    c("lag('')", (f) => f.stream.lag(""), T, /the consumer name must not be empty/),
    c("trim({})", (f) => f.stream.trim({}), T, /give olderThanS, keepLast or both/),
    c(
      "trim keepLast -1",
      (f) => f.stream.trim({ keepLast: -1 }),
      R,
      /keepLast must not be negative, got -1/,
    ),
    c(
      "trim { olderThan: 60 }",
      (f) => f.stream.trim({ olderThan: 60 } as never),
      T,
      unknown("olderThan", "olderThanS"),
    ),
    c(
      "trim olderThanS NaN",
      (f) => f.stream.trim({ olderThanS: NaN }),
      T,
      /olderThanS must be a finite number, got NaN/,
    ),
    c(
      "scheduler.add(null)",
      (f) => f.scheduler.add(null as never),
      T,
      /options must be an object, got null/,
    ),
    c(
      "scheduler.add { cron }",
      (f) => f.scheduler.add({ name: "s", queue: "q", cron } as never),
      T,
      unknown("cron"),
    ),
    c(
      "scheduler.update { expires: 5 }",
      (f) => f.scheduler.update("s", { expires: 5 } as never),
      T,
      unknown("expires", "expiresS"),
    ),
    c(
      "scheduler.add name ''",
      (f) => f.scheduler.add(s({ name: "" })),
      T,
      /name must not be empty/,
    ),
    c(
      "scheduler.add queue ''",
      (f) => f.scheduler.add(s({ queue: "" })),
      T,
      /queue must not be empty/,
    ),
    c(
      "scheduler.add queue {}",
      (f) => f.scheduler.add(s({ queue: {} })),
      T,
      /queue must be a queue name or a Queue, got an object/,
    ),
    c(
      "scheduler.add schedule 5",
      (f) => f.scheduler.add(s({ schedule: 5 })),
      T,
      /schedule must be a cron expression string/,
    ),
    c(
      "scheduler.add schedule 'nope'",
      (f) => f.scheduler.add(s({ schedule: "nope" })),
      Error,
      /nope/,
    ),
    c(
      "scheduler.add schedule ''",
      (f) => f.scheduler.add(s({ schedule: "" })),
      Error,
      /schedule|cron|field/i,
    ),
    c(
      "scheduler.add @every 0s",
      (f) => f.scheduler.add(s({ schedule: "@every 0s" })),
      Error,
      /interval count must be positive/,
    ),
    c(
      "scheduler.add priority NaN",
      (f) => f.scheduler.add(s({ priority: NaN })),
      T,
      /priority must be an integer, got NaN/,
    ),
    c(
      "scheduler.add expiresS -1",
      (f) => f.scheduler.add(s({ expiresS: -1 })),
      R,
      /expiresS must not be negative, got -1/,
    ),
    c(
      "scheduler.add maxAttempts 0",
      (f) => f.scheduler.add(s({ maxAttempts: 0 })),
      R,
      /maxAttempts must be at least 1, got 0/,
    ),
    c("scheduler.remove('')", (f) => f.scheduler.remove(""), T, /name must not be empty/),
    c(
      "scheduler.pause(5)",
      (f) => f.scheduler.pause(5 as never),
      T,
      /name must be a string, got 5/,
    ),
    c("scheduler.resume('')", (f) => f.scheduler.resume(""), T, /name must not be empty/),
    c("scheduler.update('', {})", (f) => f.scheduler.update("", {}), T, /name must not be empty/),
    c(
      "scheduler.update priority NaN",
      (f) => f.scheduler.update("s", { priority: NaN }),
      T,
      /priority must be an integer, got NaN/,
    ),
    c(
      "scheduler.update payload BigInt",
      (f) => f.scheduler.update("s", { payload: 1n }),
      T,
      /BigInt at \$/,
    ),
    c(
      "scheduler.update(s, 5)",
      (f) => f.scheduler.update("s", 5 as never),
      T,
      /options must be an object, got 5/,
    ),
    c("scheduler.tick(NaN)", (f) => f.scheduler.tick(NaN), T, /nowS must be an integer, got NaN/),
    c("scheduler.tick(1.5)", (f) => f.scheduler.tick(1.5), T, /nowS must be an integer, got 1.5/),
  ];
}

/** Every misuse case. */
export function misuseCases(): MisuseCase[] {
  return [...databaseCases(), ...queueCases(), ...streamAndSchedulerCases(), ...payloadCases()];
}

/** Every call after `close()`: each must throw DatabaseClosedError. */
export function closedCases(): Array<[string, (f: MisuseFixture) => unknown]> {
  const x = { x: 1 };
  return [
    ["db.queue", (f) => f.db.queue("q")],
    ["db.stream", (f) => f.db.stream("t")],
    ["db.scheduler", (f) => f.db.scheduler()],
    ["db.outbox", (f) => f.db.outbox("o", fn)],
    ["db.notify", (f) => f.db.notify("c", x)],
    ["db.listen", (f) => f.db.listen("c")],
    ["db.updates", (f) => f.db.updates()],
    ["db.pruneNotifications", (f) => f.db.pruneNotifications({ maxKeep: 0 })],
    ["db.tryLock", (f) => f.db.tryLock("l2", { owner: "o", ttlS: 10 })],
    ["db.withLock", (f) => f.db.withLock("l2", fn, { waitMs: 0 })],
    ["db.tryRateLimit", (f) => f.db.tryRateLimit("r", { limit: 1, perS: 1 })],
    ["db.sweepRateLimits", (f) => f.db.sweepRateLimits({ olderThanS: 0 })],
    ["db.transaction", (f) => f.db.transaction(fn)],
    ["db.saveResult", (f) => f.db.saveResult(1, x)],
    ["db.getResult", (f) => f.db.getResult(1)],
    ["db.sweepResults", (f) => f.db.sweepResults()],
    ["queue.enqueue", (f) => f.queue.enqueue(x)],
    ["queue.enqueueMany", (f) => f.queue.enqueueMany([x])],
    ["queue.claimBatch", (f) => f.queue.claimBatch("w", 1)],
    ["queue.claimOne", (f) => f.queue.claimOne("w")],
    ["queue.claim", (f) => f.queue.claim("w")],
    ["queue.work", (f) => f.queue.work(fn)],
    ["queue.ackBatch", (f) => f.queue.ackBatch("w", [1])],
    ["queue.cancel", (f) => f.queue.cancel(1)],
    ["queue.getJob", (f) => f.queue.getJob(1)],
    ["queue.sweepExpired", (f) => f.queue.sweepExpired()],
    ["queue.nextClaimAt", (f) => f.queue.nextClaimAt()],
    ["queue.stats", (f) => f.queue.stats()],
    ["queue.deadLetters", (f) => f.queue.deadLetters()],
    ["queue.requeueDead", (f) => f.queue.requeueDead(1)],
    ["queue.purgeDead", (f) => f.queue.purgeDead()],
    ["job.ack", (f) => f.job.ack()],
    ["job.retry", (f) => f.job.retry(0, "e")],
    ["job.fail", (f) => f.job.fail("e")],
    ["job.heartbeat", (f) => f.job.heartbeat(10)],
    ["stream.publish", (f) => f.stream.publish(x)],
    ["stream.publishMany", (f) => f.stream.publishMany([x])],
    ["stream.readSince", (f) => f.stream.readSince(0)],
    ["stream.waitForEvents", (f) => f.stream.waitForEvents(0, { limit: 1, timeoutMs: 10 })],
    ["stream.saveOffset", (f) => f.stream.saveOffset("c", 1)],
    ["stream.getOffset", (f) => f.stream.getOffset("c")],
    ["stream.subscribe", (f) => f.stream.subscribe("c")],
    ["stream.lag", (f) => f.stream.lag("c")],
    ["stream.consumers", (f) => f.stream.consumers()],
    ["stream.trim", (f) => f.stream.trim({ keepLast: 0 })],
    ["scheduler.add", (f) => f.scheduler.add({ name: "s", queue: "q", schedule: cron })],
    ["scheduler.remove", (f) => f.scheduler.remove("s")],
    ["scheduler.pause", (f) => f.scheduler.pause("s")],
    ["scheduler.resume", (f) => f.scheduler.resume("s")],
    ["scheduler.update", (f) => f.scheduler.update("s", { priority: 1 })],
    ["scheduler.list", (f) => f.scheduler.list()],
    ["scheduler.tick", (f) => f.scheduler.tick()],
    ["scheduler.soonest", (f) => f.scheduler.soonest()],
    ["lock.heartbeat", (f) => f.lock.heartbeat()],
    ["lock.release", (f) => f.lock.release()],
    ["outbox.enqueue", (f) => f.outbox.enqueue(x)],
    ["outbox.run", (f) => f.outbox.run({ signal: AbortSignal.abort() })],
  ];
}

/**
 * Durations so large that `unixepoch() + value` is no longer a safe integer (or not an integer
 * at all, for 1e300): they must be refused like a negative one. Today they are accepted and
 * write rows that cannot be read back (see fault_test.ts, "known bugs").
 */
export function oversizedCases(): MisuseCase[] {
  const x = { x: 1 };
  return [
    c("enqueue delayS 2**60", (f) => f.queue.enqueue(x, { delayS: 2 ** 60 }), R, /delayS/),
    c("enqueue delayS 1e300", (f) => f.queue.enqueue(x, { delayS: 1e300 }), R, /delayS/),
    c("enqueue expiresS 1e300", (f) => f.queue.enqueue(x, { expiresS: 1e300 }), R, /expiresS/),
    c("job.heartbeat(1e300)", (f) => f.job.heartbeat(1e300), R, /extendS/),
    c("job.retry(1e300)", (f) => f.job.retry(1e300), R, /delayS/),
    c("saveResult ttlS 1e300", (f) => f.db.saveResult(1, 1, { ttlS: 1e300 }), R, /ttlS/),
    c(
      "tryLock ttlS MAX_SAFE_INTEGER",
      (f) => f.db.tryLock("big", { ttlS: Number.MAX_SAFE_INTEGER }),
      R,
      /ttlS/,
    ),
  ];
}
