/**
 * The differential test's generator: seeded random sequences of ops over small pools of names
 * (two queues, three workers, two topics …), so that ops keep running into each other.
 *
 * Ops name jobs, locks and ids by position (`ref`) among the handles each side has made so far,
 * not by value, so a sequence with steps removed (while shrinking) still makes sense. Instants
 * are relative to the fake clock at the step that runs them.
 *
 * @module
 */

import type { ScheduleUpdate } from "../../mod.ts";
import { mulberry32 } from "../_prng.ts";

/** One step. Which fields are set depends on the kind `k`; see GEN. */
export interface Op {
  k: string;
  q?: string;
  w?: string;
  n?: number;
  vis?: number;
  p?: unknown;
  delayS?: number;
  runAt?: number;
  prio?: number;
  expS?: number;
  max?: number;
  ref?: number;
  refs?: number[];
  s?: number;
  err?: string;
  t?: string;
  key?: string | null;
  c?: string;
  off?: number;
  lim?: number;
  ch?: string;
  name?: string;
  expr?: string;
  fields?: ScheduleUpdate;
  at?: number | null;
  owner?: string;
  ttl?: number;
  limit?: number;
  per?: number;
  d?: number;
  ops?: Op[];
  commit?: boolean;
  /** The error class honker-ts must refuse this op with (`A|B`: either). */
  bad?: string;
  /** honker would accept this op (a known honker bug): it is not run on honker's side. */
  skipExt?: boolean;
}

/** Integer and pick helpers over a seeded mulberry32. */
function rng(seed: number) {
  const next = mulberry32(seed);
  return {
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
  };
}
type Rng = ReturnType<typeof rng>;

const Q = ["a", "b"], W = ["w1", "w2", "w3"], T = ["t1", "t2"], C = ["c1", "c2"];
const TASKS = ["s1", "s2"];
const EXPRS = ["@every 1s", "@every 7s", "@every 2m", "@every 1h", "* * * * *", "*/5 * * * *"]
  .concat(["0 * * * *", "*/10 * * * * *", "0 3 * * *", "30 2 * * 1-5", "0,30 * * * *"]);
const SCALARS = [0, 42, -7, 2.5, 1e-7, 2 ** 53 - 1, "", "héllo ✓ 🦆", 'q"u\\o', true, false, null];

function payload(r: Rng, depth = 0): unknown {
  const c = depth > 1 ? 0 : r.int(4);
  if (c === 1) return Array.from({ length: r.int(3) }, () => payload(r, depth + 1));
  if (c === 2) return { k: payload(r, depth + 1), "ключ": r.pick(SCALARS), n: r.int(100) };
  return r.pick(SCALARS);
}

/** undefined (the option left out) half the time, else one of `xs`. */
const maybe = <T>(r: Rng, xs: readonly T[]): T | undefined => r.int(2) ? r.pick(xs) : undefined;
const ref = (r: Rng) => r.int(1000);
/** A job id ref; now and then one that was never issued. */
const idRef = (r: Rng) => r.int(8) ? r.int(1000) : -1;

function update(r: Rng): ScheduleUpdate {
  const f: ScheduleUpdate = {};
  if (r.int(3) === 0) f.schedule = r.pick([...EXPRS, null] as string[]);
  if (r.int(3) === 0) f.payload = payload(r);
  if (r.int(3) === 0) f.priority = r.pick([-1, 0, 7]);
  if (r.int(3) === 0) f.expiresS = r.pick([null, 0, 15]);
  if (r.int(3) === 0) f.maxAttempts = r.pick([null, 1, 4]);
  return f;
}

/** Each kind's arguments. */
const GEN: Record<string, (r: Rng) => Omit<Op, "k">> = {
  enqueue: (r) => ({
    ...{ q: r.pick(Q), p: payload(r), delayS: maybe(r, [0, 1, 3, 20, 400]) },
    ...{ runAt: maybe(r, [-50, -1, 0, 1, 5, 100]), prio: maybe(r, [-2, 0, 1, 5]) },
    ...{ expS: maybe(r, [0, 1, 5, 60]), max: maybe(r, [1, 2, 3, 4]) },
  }),
  enqueueMany: (r) => ({
    ...GEN.enqueue(r),
    p: Array.from({ length: r.int(4) }, () => payload(r)),
  }),
  claim: (r) => ({ q: r.pick(Q), w: r.pick(W), n: 1 + r.int(4), vis: r.pick([1, 2, 5, 30, 300]) }),
  ack: (r) => ({ ref: ref(r) }),
  ackBatch: (r) => ({ refs: [ref(r), ref(r), -1], w: r.pick(W) }),
  retry: (r) => ({ ref: ref(r), s: maybe(r, [0, 1, 5, 30]), err: maybe(r, ["e", ""]) }),
  fail: (r) => ({ ref: ref(r), err: maybe(r, ["boom", ""]) }),
  heartbeat: (r) => ({ ref: ref(r), s: maybe(r, [0, 1, 5, 60]) }),
  cancel: (r) => ({ ref: idRef(r) }),
  getJob: (r) => ({ ref: idRef(r) }),
  nextClaimAt: (r) => ({ q: r.pick(Q) }),
  sweepExpired: (r) => ({ q: r.pick(Q) }),
  saveResult: (r) => ({ ref: idRef(r), p: payload(r), ttl: maybe(r, [0, 1, 5, 60]) }),
  getResult: (r) => ({ ref: idRef(r) }),
  sweepResults: () => ({}),
  publish: (r) => ({ t: r.pick(T), p: payload(r), key: maybe(r, [null, "k1", "", "ключ"]) }),
  publishMany: (r) => ({
    ...GEN.publish(r),
    p: Array.from({ length: r.int(4) }, () => payload(r)),
  }),
  readSince: (r) => ({
    t: r.pick(T),
    off: r.pick([0, 0, 1, 2, 3, 5, 8]),
    lim: maybe(r, [1, 2, 5]),
  }),
  saveOffset: (r) => ({ t: r.pick(T), c: r.pick(C), off: r.int(10) }),
  getOffset: (r) => ({ t: r.pick(T), c: r.pick(C) }),
  notify: (r) => ({ ch: r.pick(["ch1", "ch2"]), p: payload(r) }),
  schedAdd: (r) => ({
    ...{ name: r.pick(TASKS), q: r.pick(Q), expr: r.pick(EXPRS), p: maybe(r, [payload(r)]) },
    ...{ prio: maybe(r, [0, 3]), expS: maybe(r, [0, 30]), max: maybe(r, [1, 2, 5]) },
  }),
  schedUpdate: (r) => ({ name: r.pick(TASKS), fields: update(r) }),
  schedPause: (r) => ({ name: r.pick(TASKS) }),
  schedResume: (r) => ({ name: r.pick(TASKS) }),
  schedRemove: (r) => ({ name: r.pick(TASKS) }),
  schedRead: () => ({}),
  tick: (r) => ({ at: r.int(4) ? r.pick([0, 1, 59, 600, 3600, 5000]) : null }),
  lockTry: (r) => ({ name: r.pick(["L1", "L2"]), owner: r.pick(["o1", "o2"]), ttl: 1 + r.int(30) }),
  lockRelease: (r) => ({ ref: ref(r) }),
  lockRenew: (r) => ({ ref: ref(r), ttl: maybe(r, [1, 10, 60]) }),
  rateTry: (r) => ({
    name: r.pick(["r1", "r2"]),
    limit: r.pick([1, 1, 2, 3]),
    per: r.pick([1, 5, 60, 60]),
  }),
  rateSweep: (r) => ({ s: r.pick([0, 1, 10]) }),
  time: (r) => ({ d: r.pick([0, 1, 1, 1, 2, 3, 5, 30, 61, 301, 3600]) }),
  tx: (r) => ({
    ops: Array.from({ length: 1 + r.int(3) }, () => draw(r, false)),
    commit: r.int(2) === 0,
  }),
};

/** How often each kind is drawn, relative to the others. */
const WEIGHTS: Record<string, number> = {
  ...{ enqueueMany: 2, publishMany: 1 },
  ...{ enqueue: 12, claim: 12, ack: 6, ackBatch: 2, retry: 5, fail: 3, heartbeat: 3, cancel: 2 },
  ...{ getJob: 2, nextClaimAt: 1, sweepExpired: 2, saveResult: 2, getResult: 2, sweepResults: 1 },
  ...{ publish: 4, readSince: 2, saveOffset: 3, getOffset: 1, notify: 2, schedAdd: 3 },
  ...{ schedUpdate: 2, schedPause: 2, schedResume: 2, schedRemove: 1, schedRead: 1, tick: 3 },
  ...{ lockTry: 3, lockRelease: 2, lockRenew: 2, rateTry: 4, rateSweep: 1, time: 9, tx: 2 },
};

/**
 * Ways to spoil an op, for the API's refusals and honker's known bugs (spec §12, README
 * "Compatibility with honker"): [kind, change, the error class honker-ts must throw, whether
 * honker's SQL function accepts it (then honker's side is not run)].
 */
const BAD: Array<[string, (op: Op) => void, string, boolean]> = [
  ["claim", (op) => op.n = -1, "RangeError", true], // honker: LIMIT -1 claims everything
  ["claim", (op) => op.n = 0, "RangeError", true], // honker: [] (after dead-lettering)
  ["claim", (op) => op.w = "", "TypeError", true], // empty names: honker takes ''
  ["enqueue", (op) => op.q = "", "TypeError", true],
  ["publish", (op) => op.t = "", "TypeError", true],
  ["saveOffset", (op) => op.c = "", "TypeError", true],
  ["notify", (op) => op.ch = "", "TypeError", true],
  ["lockTry", (op) => op.owner = "", "TypeError", true],
  ["rateTry", (op) => op.name = "", "TypeError", true],
  ["schedAdd", (op) => op.name = "", "TypeError", true],
  ["readSince", (op) => op.lim = -1, "RangeError", true], // honker: LIMIT -1 reads everything
  ["saveOffset", (op) => op.off = -5, "RangeError", true], // honker stores it
  ["enqueue", (op) => op.delayS = -5, "RangeError", true], // honker: negative durations
  ["enqueue", (op) => op.expS = -1, "RangeError", true],
  ["heartbeat", (op) => op.s = -1, "RangeError", true],
  ["enqueue", (op) => op.max = 0, "RangeError", true], // honker: an exhausted pending row
  ["lockTry", (op) => op.ttl = 0, "RangeError", true], // honker: an already expired lock
  ["enqueue", (op) => op.delayS = 1.5, "RangeError", false], // fractions: both refuse
  ["retry", (op) => op.s = 2.5, "RangeError", false],
  ["heartbeat", (op) => op.s = 0.5, "RangeError", false],
  ["saveResult", (op) => op.ttl = 1.5, "RangeError", false],
  ["lockTry", (op) => op.ttl = 1.5, "TypeError", false],
  ["lockRenew", (op) => op.ttl = 0, "RangeError", false], // both: ttl must be positive
  ["rateTry", (op) => op.limit = 0, "RangeError", false],
  ["rateTry", (op) => op.per = 1.5, "TypeError", false],
  ["schedAdd", (op) => op.expr = "61 * * * *", "RangeError|TypeError", false],
  ["schedAdd", (op) => op.expr = "@every 0s", "RangeError|TypeError", false],
  // honker returns 0 for a missing task before it reads the expression; the API checks first.
  ["schedUpdate", (op) => op.fields = { schedule: "* * *" }, "RangeError|TypeError", true],
  ["tick", (op) => op.at = 0.5, "TypeError", false],
];

const KINDS = Object.keys(WEIGHTS);
const TOTAL = KINDS.reduce((sum, k) => sum + WEIGHTS[k], 0);

/** One op; inside a transaction (`top` false) no time passes, no nesting, nothing spoilt. */
function draw(r: Rng, top: boolean): Op {
  let x = r.int(TOTAL);
  let k = KINDS.find((kind) => (x -= WEIGHTS[kind]) < 0)!;
  if (!top && (k === "tx" || k === "time")) k = "enqueue";
  const op: Op = { k, ...GEN[k](r) };
  const spoilers = BAD.filter(([kind]) => kind === k);
  if (top && spoilers.length > 0 && r.int(100) < 5) {
    const [, spoil, error, honkerAccepts] = r.pick(spoilers);
    spoil(op);
    op.bad = error;
    if (honkerAccepts) op.skipExt = true;
  }
  return op;
}

/** The ops of sequence `seed`, and the fake clock's start (a random second of one week). */
export function generate(seed: number, steps: number): { start: number; ops: Op[] } {
  const r = rng(seed);
  const start = 1_800_000_000 + r.int(7 * 86_400);
  return { start, ops: Array.from({ length: steps }, () => draw(r, true)) };
}
