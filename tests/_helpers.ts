/**
 * Shared test helpers: temporary database files, plain-object row comparison, and the check that
 * another connection's commit wakes an event-only waiter.
 */

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Database } from "../mod.ts";

const dirs: string[] = [];

/** A fresh, not yet existing database path in its own temporary folder. */
export function tempDbPath(name = "test.db"): string {
  const dir = mkdtempSync(join(tmpdir(), "honker-ts-"));
  dirs.push(dir);
  return join(dir, name);
}

/** Removes every folder made by tempDbPath in this process. */
export function removeTempDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Copies a row (possibly null-prototype) into a plain object for deepEqual. */
export function plain<T extends object>(row: T | undefined | null): T | undefined | null {
  return row == null ? row : { ...row };
}

/** plain() over every row. */
export function plainAll<T extends object>(rows: T[]): T[] {
  return rows.map((row) => ({ ...row }));
}

/**
 * Parks an event-only claim on queue "jobs" of `db`, runs `meanwhile` if given, enqueues
 * `{ n: 1 }` there through `other`, and checks that the claim gets it within `withinMs`.
 */
export async function assertCommitWakesClaim(
  db: Database,
  other: Database,
  withinMs: number,
  meanwhile?: () => unknown,
): Promise<void> {
  const jobs = db.queue("jobs").claim("w", { idlePollMs: null });
  try {
    const first = jobs.next(); // nothing is due: this parks a wait
    if (meanwhile) await meanwhile();
    const started = performance.now();
    other.queue("jobs").enqueue({ n: 1 });
    assert.deepEqual((await first).value?.payload, { n: 1 });
    const elapsed = performance.now() - started;
    assert.ok(elapsed < withinMs, `woken after ${elapsed.toFixed(1)} ms`);
  } finally {
    await jobs.return?.();
  }
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> =>
  new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 10 ms until it is true; fails naming `what` after `withinMs`. */
export async function eventually(
  check: () => boolean,
  withinMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`${what}: not within ${withinMs} ms`);
    await sleep(10);
  }
}

/** The class of an error a bad argument must raise (TypeError, RangeError, …). */
export type ErrorClass = new (...args: never[]) => Error;

/**
 * `bad(args, error, message)` for `fn`: asserts that `fn(...args)` throws an `error` whose message
 * matches `message`, naming the arguments when it does not. Pass a bound method.
 */
export function refusals(
  fn: (...args: never[]) => unknown,
): (args: unknown[], error: ErrorClass, message: RegExp) => void {
  return (args, error, message) =>
    assert.throws(
      () => (fn as (...a: unknown[]) => unknown)(...args),
      (e: Error) => e instanceof error && message.test(e.message),
      String(args),
    );
}

/** refusals() for an async `fn`: the returned check awaits the rejection. */
export function asyncRefusals(
  fn: (...args: never[]) => Promise<unknown>,
): (args: unknown[], error: ErrorClass, message: RegExp) => Promise<void> {
  return (args, error, message) =>
    assert.rejects(
      (fn as (...a: unknown[]) => Promise<unknown>)(...args),
      (e: Error) => e instanceof error && message.test(e.message),
      String(args),
    );
}

/** What `queue.stats()` reports for a queue with nothing in it, unpaused. */
export const EMPTY_QUEUE_STATS = {
  pending: 0,
  scheduled: 0,
  processing: 0,
  dead: 0,
  retrying: 0,
  stalled: 0,
  paused: false,
} as const;
