/**
 * The differential test's two executors: one op through honker-ts's TypeScript API, and through
 * honker's extension's SQL functions. Both return what honker's SQL function returns (JSON
 * decoded, booleans as 0/1, payloads as values), so the results compare directly.
 *
 * @module
 */

import type { Database, Job, Lock, Transaction } from "../../mod.ts";
import { RETENTION_DEFAULT } from "../../mod.ts";
import { NONE, Refused } from "./_compare.ts";
import type { Op } from "./_gen.ts";

/** Handles one side has made so far; the same positions name the same things on both sides. */
interface Handles<J, L> {
  ids: number[];
  claims: J[];
  locks: L[];
}

/** The honker-ts side. */
export interface Ours extends Handles<Job, Lock> {
  db: Database;
  now: () => number;
  tx?: Transaction;
}

/** A claim as honker's side remembers it. */
interface ExtClaim {
  id: number;
  worker: string;
  vis: number;
}
/** A lock as honker's side remembers it. */
interface ExtLock {
  name: string;
  owner: string;
  ttl: number;
  released: boolean;
}

/** honker's side: `x` runs one statement and returns the first column of its first row. */
export interface Theirs extends Handles<ExtClaim, ExtLock> {
  x: (sql: string, params?: unknown[]) => unknown;
  now: () => number;
}

/** Picks among the 8 newest handles, so ops mostly act on recent jobs and locks. */
const recent = <H>(list: H[], ref: number): H | undefined =>
  list.length === 0 ? undefined : list[list.length - 1 - (ref % Math.min(list.length, 8))];
/** A job id: one of the 12 newest, or one never issued (ref < 0). */
const idOf = (ids: number[], ref: number) =>
  ref < 0 || ids.length === 0 ? 100_000 : ids[ids.length - 1 - (ref % Math.min(ids.length, 12))];
const bit = (b: boolean) => (b ? 1 : 0);

/** Our camelCase fields under honker's snake_case names. */
function snake(o: object): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(o).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]),
  );
}

const inClaimOrder = (a: Job, b: Job) =>
  b.priority - a.priority || a.runAt - b.runAt || a.id - b.id;

type Exec<S> = (s: S, op: Op) => unknown;

function enqueueOptions(s: Ours, o: Op) {
  const runAt = o.runAt === undefined ? undefined : s.now() + o.runAt;
  const opts = { tx: s.tx, delayS: o.delayS, runAt, priority: o.prio, expiresS: o.expS };
  return { ...opts, maxAttempts: o.max };
}

/** honker-ts: the TypeScript API, as users call it. */
const OURS: Record<string, Exec<Ours>> = {
  enqueue: (s, o) => {
    const id = s.db.queue(o.q!).enqueue(o.p, enqueueOptions(s, o));
    return s.ids.push(id), id;
  },
  // honker has no batch enqueue: its side enqueues one by one (same ids, same rows).
  enqueueMany: (s, o) => {
    const ids = s.db.queue(o.q!).enqueueMany(o.p as unknown[], enqueueOptions(s, o));
    return s.ids.push(...ids), ids;
  },
  claim: (s, o) => {
    const jobs = s.db.queue(o.q!, { visibilityTimeoutS: o.vis }).claimBatch(o.w!, o.n!);
    // Deliberate difference: honker-ts returns claim (priority) order, honker RETURNING order.
    const sorted = [...jobs].sort(inClaimOrder);
    if (jobs.some((j, i) => j !== sorted[i])) return { notInClaimOrder: jobs.map((j) => j.id) };
    const byId = sorted.sort((a, b) => a.id - b.id);
    s.claims.push(...byId);
    return byId.map(({ id, queue, payload, workerId, attempts, claimExpiresAt }) =>
      snake({ id, queue, payload, workerId, attempts, claimExpiresAt })
    );
  },
  ack: (s, o) => recent(s.claims, o.ref!)?.ack() ?? NONE,
  ackBatch: (s, o) => s.db.queue("a").ackBatch(o.w!, o.refs!.map((r) => idOf(s.ids, r))),
  retry: (s, o) => recent(s.claims, o.ref!)?.retry(o.s, o.err) ?? NONE,
  fail: (s, o) => recent(s.claims, o.ref!)?.fail(o.err) ?? NONE,
  heartbeat: (s, o) => recent(s.claims, o.ref!)?.heartbeat(o.s) ?? NONE,
  cancel: (s, o) => s.db.queue("a").cancel(idOf(s.ids, o.ref!)),
  getJob: (s, o) => {
    const job = s.db.queue("a").getJob(idOf(s.ids, o.ref!));
    // Deliberate difference: getJob() also reports dead jobs and completed ones with a result;
    // honker_get_job reports live rows only, so only a live job's report is compared.
    return job && (job.state === "pending" || job.state === "processing") ? snake(job) : null;
  },
  nextClaimAt: (s, o) => s.db.queue(o.q!).nextClaimAt(),
  sweepExpired: (s, o) => s.db.queue(o.q!).sweepExpired(),
  saveResult: (s, o) => {
    s.db.saveResult(idOf(s.ids, o.ref!), o.p, { ttlS: o.ttl, tx: s.tx });
    return 1;
  },
  getResult: (s, o) => {
    const v = s.db.getResult(idOf(s.ids, o.ref!));
    return v === undefined ? null : { v };
  },
  sweepResults: (s) => s.db.sweepResults(),
  publish: (s, o) => s.db.stream(o.t!).publish(o.p, { key: o.key, tx: s.tx }),
  publishMany: (s, o) => s.db.stream(o.t!).publishMany(o.p as unknown[], { key: o.key, tx: s.tx }),
  readSince: (s, o) => s.db.stream(o.t!).readSince(o.off!, o.lim).map(snake),
  saveOffset: (s, o) => s.db.stream(o.t!).saveOffset(o.c!, o.off!, { tx: s.tx }),
  getOffset: (s, o) => s.db.stream(o.t!).getOffset(o.c!),
  notify: (s, o) => s.db.notify(o.ch!, o.p, { tx: s.tx }),
  schedAdd: (s, o) => {
    const spec = { name: o.name!, queue: o.q!, schedule: o.expr!, payload: o.p, priority: o.prio };
    s.db.scheduler().add({ ...spec, expiresS: o.expS, maxAttempts: o.max });
    return 1;
  },
  schedUpdate: (s, o) => s.db.scheduler().update(o.name!, o.fields!),
  schedPause: (s, o) => s.db.scheduler().pause(o.name!),
  schedResume: (s, o) => s.db.scheduler().resume(o.name!),
  schedRemove: (s, o) => s.db.scheduler().remove(o.name!),
  schedRead: (s) => ({
    list: s.db.scheduler().list().map(({ schedule, ...t }) => snake({ ...t, cronExpr: schedule })),
    soonest: s.db.scheduler().soonest(),
  }),
  tick: (s, o) => {
    const fires = s.db.scheduler().tick(o.at === null ? undefined : s.now() + o.at!);
    s.ids.push(...fires.map((f) => f.jobId));
    return fires.map(snake);
  },
  lockTry: (s, o) => {
    const lock = s.db.tryLock(o.name!, { owner: o.owner!, ttlS: o.ttl! });
    if (lock) s.locks.push(lock);
    return lock !== null;
  },
  lockRelease: (s, o) => recent(s.locks, o.ref!)?.release() ?? NONE,
  lockRenew: (s, o) => recent(s.locks, o.ref!)?.heartbeat(o.ttl) ?? NONE,
  rateTry: (s, o) => s.db.tryRateLimit(o.name!, { limit: o.limit!, perS: o.per! }),
  rateSweep: (s, o) => s.db.sweepRateLimits({ olderThanS: o.s! }),
};

/** honker's JSON text, `''` (its "not found") as null. */
const json = (text: unknown) => text === "" || text === null ? null : JSON.parse(String(text));
/** honker's rows with their payload (JSON text inside the JSON) decoded. */
const decoded = (rows: { payload: string }[]) =>
  rows.map((row) => ({ ...row, payload: JSON.parse(row.payload) }));

/** A call on the handle at `ref`, or NONE when there is none yet. */
const withClaim = (s: Theirs, o: Op, call: (h: ExtClaim) => unknown) => {
  const h = recent(s.claims, o.ref!);
  return h ? call(h) : NONE;
};

/**
 * Modelled deliberate difference: honker-ts's add() and update() keep a schedule's next fire when
 * its expression (and, for add(), its queue) is unchanged, so that registering at every boot loses
 * no boundary; honker's register and update recompute it from now. honker's side puts the stored
 * next_fire_at back after such a call.
 */
function keepPhase(s: Theirs, name: string, same: (row: TaskRow) => boolean, call: () => unknown) {
  const sql = "SELECT json_object('queue', queue, 'cron_expr', cron_expr, 'next_fire_at', " +
    "next_fire_at) FROM _honker_scheduler_tasks WHERE name = ?";
  const before = json(s.x(sql, [name]) ?? null) as TaskRow | null;
  const result = call();
  if (result === 1 && before && same(before)) {
    s.x("UPDATE _honker_scheduler_tasks SET next_fire_at = ? WHERE name = ?", [
      before.next_fire_at,
      name,
    ]);
  }
  return result;
}

/** The task columns keepPhase() reads. */
interface TaskRow {
  queue: string;
  cron_expr: string;
  next_fire_at: number;
}

/** honker: its extension's SQL functions, called as its bindings call them. */
const THEIRS: Record<string, Exec<Theirs>> = {
  enqueue: (s, o) => {
    const runAt = o.runAt === undefined ? null : s.now() + o.runAt;
    const id = s.x("SELECT honker_enqueue(?, ?, ?, ?, ?, ?, ?)", [
      ...[o.q, JSON.stringify(o.p), runAt, o.delayS ?? null],
      ...[o.prio ?? 0, o.max ?? 3, o.expS ?? null],
    ]) as number;
    return s.ids.push(id), id;
  },
  enqueueMany: (s, o) => (o.p as unknown[]).map((p) => THEIRS.enqueue(s, { ...o, p })),
  claim: (s, o) => {
    const sql = "SELECT honker_claim_batch(?, ?, ?, ?)";
    const rows = json(s.x(sql, [o.q, o.w, o.n, o.vis])) as { id: number; payload: string }[];
    rows.sort((a, b) => a.id - b.id);
    s.claims.push(...rows.map((r) => ({ id: r.id, worker: o.w!, vis: o.vis! })));
    return decoded(rows);
  },
  ack: (s, o) => withClaim(s, o, (h) => s.x("SELECT honker_ack(?, ?)", [h.id, h.worker])),
  // Deliberate difference: a Queue handle's ackBatch(), cancel() and getJob() act only on its own
  // queue's jobs; honker's SQL functions take any queue's job id, so this side keeps them to
  // queue "a", the queue the API side calls them on.
  ackBatch: (s, o) =>
    s.x(
      `SELECT honker_ack_batch((SELECT json_group_array(id) FROM _honker_live
        WHERE queue = 'a' AND id IN (SELECT value FROM json_each(?1))), ?2)`,
      [JSON.stringify(o.refs!.map((r) => idOf(s.ids, r))), o.w],
    ),
  retry: (s, o) =>
    withClaim(
      s,
      o,
      (h) => s.x("SELECT honker_retry(?, ?, ?, ?)", [h.id, h.worker, o.s ?? 60, o.err ?? ""]),
    ),
  fail: (s, o) =>
    withClaim(s, o, (h) => s.x("SELECT honker_fail(?, ?, ?)", [h.id, h.worker, o.err ?? ""])),
  heartbeat: (s, o) =>
    withClaim(s, o, (h) => s.x("SELECT honker_heartbeat(?, ?, ?)", [h.id, h.worker, o.s ?? h.vis])),
  cancel: (s, o) =>
    s.x(
      `SELECT CASE WHEN (SELECT queue FROM _honker_live WHERE id = ?1) = 'a'
        THEN honker_cancel(?1) ELSE 0 END`,
      [idOf(s.ids, o.ref!)],
    ),
  getJob: (s, o) => {
    const job = json(s.x("SELECT honker_get_job(?)", [idOf(s.ids, o.ref!)]));
    return job?.queue === "a" ? decoded([job])[0] : null;
  },
  nextClaimAt: (s, o) => s.x("SELECT honker_queue_next_claim_at(?)", [o.q]),
  sweepExpired: (s, o) => s.x("SELECT honker_sweep_expired(?)", [o.q]),
  // Deliberate differences: a result is stored as JSON (as honker's Python binding does; its
  // Node binding takes raw text), so a saved null is the text 'null', never SQL NULL; and one
  // saved without ttlS expires after the retention's resultsS (7 days), where honker's never does.
  saveResult: (s, o) =>
    s.x("SELECT honker_result_save(?, ?, ?)", [
      idOf(s.ids, o.ref!),
      JSON.stringify(o.p),
      o.ttl ?? RETENTION_DEFAULT.resultsS,
    ]),
  getResult: (s, o) => {
    const text = s.x("SELECT honker_result_get(?)", [idOf(s.ids, o.ref!)]);
    return text === null ? null : { v: JSON.parse(String(text)) };
  },
  sweepResults: (s) => s.x("SELECT honker_result_sweep()"),
  publish: (s, o) =>
    s.x("SELECT honker_stream_publish(?, ?, ?)", [o.t, o.key ?? null, JSON.stringify(o.p)]),
  publishMany: (s, o) => (o.p as unknown[]).map((p) => THEIRS.publish(s, { ...o, p })),
  readSince: (s, o) =>
    decoded(json(s.x("SELECT honker_stream_read_since(?, ?, ?)", [o.t, o.off, o.lim ?? 1000]))),
  // honker's (consumer, topic) order: the extension's layout, not honker-node's swapped one.
  saveOffset: (s, o) => s.x("SELECT honker_stream_save_offset(?, ?, ?)", [o.c, o.t, o.off]),
  getOffset: (s, o) => s.x("SELECT honker_stream_get_offset(?, ?)", [o.c, o.t]),
  notify: (s, o) => s.x("SELECT notify(?, ?)", [o.ch, JSON.stringify(o.p)]),
  schedAdd: (s, o) =>
    keepPhase(
      s,
      o.name!,
      (row) => row.cron_expr === o.expr && row.queue === o.q,
      () =>
        s.x("SELECT honker_scheduler_register(?, ?, ?, ?, ?, ?, ?)", [
          ...[o.name, o.q, o.expr, JSON.stringify(o.p ?? null)],
          ...[o.prio ?? 0, o.expS ?? null, o.max ?? 3],
        ]),
    ),
  // The API's "key present" becomes honker's touch flags, as honker's JS bindings do it.
  schedUpdate: (s, o) => {
    const f = o.fields!;
    return keepPhase(
      s,
      o.name!,
      (row) => row.cron_expr === f.schedule,
      () =>
        s.x("SELECT honker_scheduler_update(?, ?, ?, ?, ?, ?, ?, ?)", [
          ...[
            o.name,
            f.schedule ?? null,
            "payload" in f ? JSON.stringify(f.payload ?? null) : null,
          ],
          ...[f.priority ?? null, f.expiresS ?? null, bit("expiresS" in f)],
          ...[f.maxAttempts ?? null, bit("maxAttempts" in f)],
        ]),
    );
  },
  schedPause: (s, o) => s.x("SELECT honker_scheduler_pause(?)", [o.name]),
  schedResume: (s, o) => s.x("SELECT honker_scheduler_resume(?)", [o.name]),
  schedRemove: (s, o) => s.x("SELECT honker_scheduler_unregister(?)", [o.name]),
  schedRead: (s) => ({
    list: decoded(json(s.x("SELECT honker_scheduler_list()"))),
    soonest: s.x("SELECT honker_scheduler_soonest()"),
  }),
  tick: (s, o) => {
    const fires = json(s.x("SELECT honker_scheduler_tick(?)", [s.now() + (o.at ?? 0)]));
    s.ids.push(...fires.map((f: { job_id: number }) => f.job_id));
    return fires;
  },
  lockTry: (s, o) => {
    const got = s.x("SELECT honker_lock_acquire(?, ?, ?)", [o.name, o.owner, o.ttl]);
    if (got === 1) s.locks.push({ name: o.name!, owner: o.owner!, ttl: o.ttl!, released: false });
    return got;
  },
  // Modelled: a released Lock handle is inert (release and heartbeat return false without SQL),
  // as in honker's Bun binding; honker's Node binding would DELETE again, even a re-taken lock.
  lockRelease: (s, o) => {
    const h = recent(s.locks, o.ref!);
    if (!h) return NONE;
    if (h.released) return 0;
    h.released = true;
    return s.x("SELECT honker_lock_release(?, ?)", [h.name, h.owner]);
  },
  lockRenew: (s, o) => {
    const h = recent(s.locks, o.ref!);
    if (!h) return NONE;
    const ttl = o.ttl ?? h.ttl;
    if (h.released && Number.isInteger(ttl) && ttl > 0) return 0;
    return s.x("SELECT honker_lock_renew(?, ?, ?)", [h.name, h.owner, ttl]);
  },
  rateTry: (s, o) => s.x("SELECT honker_rate_limit_try(?, ?, ?)", [o.name, o.limit, o.per]),
  rateSweep: (s, o) => s.x("SELECT honker_rate_limit_sweep(?)", [o.s]),
};

/** Runs one op on one side; a throw becomes Refused (honker-ts: its class; honker: message). */
function run<S>(exec: Record<string, Exec<S>>, side: S, op: Op, ours: boolean): unknown {
  try {
    const value = exec[op.k](side, op);
    return typeof value === "boolean" ? bit(value) : value;
  } catch (error) {
    const e = error as Error;
    return new Refused(ours ? e.name : `honker: ${e.message}`);
  }
}

const ROLLBACK = new Error("roll back");

/** A `tx` op on our side: the inner ops in `db.transaction()`, rolled back by a throw. */
function ourTx(s: Ours, op: Op): unknown {
  const results: unknown[] = [];
  try {
    s.db.transaction((tx) => {
      s.tx = tx;
      for (const inner of op.ops!) results.push(run(OURS, s, inner, true));
      if (!op.commit) throw ROLLBACK;
    });
  } catch (error) {
    if (error !== ROLLBACK) return new Refused((error as Error).name);
  } finally {
    s.tx = undefined;
  }
  return results;
}

/** A `tx` op on honker's side: BEGIN IMMEDIATE, the inner ops, COMMIT or ROLLBACK. */
function theirTx(s: Theirs, op: Op): unknown {
  s.x("BEGIN IMMEDIATE");
  const results = op.ops!.map((inner) => run(THEIRS, s, inner, false));
  s.x(op.commit ? "COMMIT" : "ROLLBACK");
  return results;
}

/** Runs one op through honker-ts's API (a `tx` op in `db.transaction()`). */
export function runOurs(ours: Ours, op: Op): unknown {
  return op.k === "tx" ? ourTx(ours, op) : run(OURS, ours, op, true);
}

/** Runs one op through honker's SQL functions; one honker would wrongly accept is not run. */
export function runTheirs(theirs: Theirs, op: Op): unknown {
  if (op.skipExt) return new Refused("not run: honker would accept it");
  return op.k === "tx" ? theirTx(theirs, op) : run(THEIRS, theirs, op, false);
}
