// The read commands and requeue/cancel of `honker-ts` (cli/main.ts), run as child processes of
// the runtime under test on a file written by honker-ts and on one written by honker's own
// extension: tables that fit 80 columns, --json equal to what the API reads from the same file,
// read commands that leave the file byte for byte as it was, and changes that do what they print.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { open } from "../mod.ts";
import type { Database } from "../mod.ts";
import { removeTempDirs, tempDbPath } from "./_helpers.ts";
import { honkerExtSkip } from "./_honker_ext.ts";
import { cli, cliJson, fileHash, schemaOf, seed } from "./_cli.ts";
import type { Seeded, Source } from "./_cli.ts";
import type { ChildResult } from "./_spawn.ts";

const EXT_SKIP = await honkerExtSkip();
const SOURCES: Array<{ source: Source; skip: string | undefined }> = [
  { source: "honker-ts", skip: undefined },
  { source: "honker", skip: EXT_SKIP },
];
after(removeTempDirs);

interface JobJson {
  id: number;
  [field: string]: unknown;
}

/** Asserts a table printed cleanly: exit 0, nothing on stderr, no line over 80 columns. */
function table(result: ChildResult, what: string): string {
  assert.equal(result.code, 0, `${what}: ${result.stderr}`);
  assert.equal(result.stderr, "", what);
  for (const line of result.stdout.split("\n")) {
    assert.ok([...line].length <= 80, `${what}: line longer than 80 columns: ${line}`);
  }
  return result.stdout;
}

function checkStats(human: ChildResult, json: unknown, s: Seeded, db: Database, path: string) {
  const out = table(human, "stats");
  assert.match(out, /^emails\s+1\s+1\s+1\s+1\s+\d+s$/m);
  assert.match(out, /^thumbs\s+1\s+0\s+0\s+0\s+\d+s$/m);
  const orders = `^orders\\s+${s.orders[2]}\\s+3\\s+billing\\s+${s.orders[0]}\\s+2$`;
  assert.match(out, new RegExp(orders, "m"));
  assert.match(out, new RegExp(`^audit\\s+${s.audit}\\s+1\\s+-$`, "m"));
  assert.match(out, /^nightly\s+reports\s+0 3 \* \* \*\s+in \d+/m);
  const snap = json as { file: string; queues: Array<Record<string, unknown>> };
  assert.deepEqual(snap.queues.map(({ oldestPendingAgeS: _, ...q }) => q), [
    { name: "emails", pending: 1, scheduled: 1, processing: 1, dead: 1 },
    { name: "thumbs", pending: 1, scheduled: 0, processing: 0, dead: 0 },
  ]);
  for (const q of snap.queues) assert.equal(typeof q.oldestPendingAgeS, "number");
  assert.deepEqual(json, {
    file: path,
    now: (json as { now: number }).now,
    queues: snap.queues,
    streams: [
      { topic: "audit", lastOffset: s.audit, events: 1, consumers: [] },
      {
        topic: "orders",
        lastOffset: s.orders[2],
        events: 3,
        consumers: db.stream("orders").consumers(),
      },
    ],
    schedules: db.scheduler().list(),
  });
}

function checkJobs(human: ChildResult, json: JobJson[], s: Seeded, db: Database) {
  const out = table(human, "jobs");
  const ids = out.trim().split("\n").slice(1).map((line) => Number(line.trim().split(/\s+/)[0]));
  // Claimed first, then pending in claim order (priority 5 now, then the delayed one), then dead.
  assert.deepEqual(ids, [s.processing, s.pending, s.scheduled, s.dead]);
  assert.match(out, /^\s*\d+\s+processing\s+9\s+1\/3\s+in (\d+m )?\d+s\s+worker-1\s+\{"to":"b@/m);
  // Due in about an hour: "in 59m 59s" or, right on the second, "in 1h 0m".
  assert.match(out, /^\s*\d+\s+pending\s+0\s+0\/3\s+in (\d+h )?\d+m( \d+s)?\s+-\s+\{"to":"later@/m);
  assert.match(out, /^\s*\d+\s+dead\s+10\s+1\/3\s+(\d+s ago|now)\s+SMTP 550: mail/m);
  const queue = db.queue("emails");
  const live = (id: number) => ({ ...queue.getJob(id), lastError: null, diedAt: null });
  const [dead] = queue.deadLetters();
  assert.deepEqual(json, [
    live(s.processing),
    live(s.pending),
    live(s.scheduled),
    { ...dead, state: "dead", workerId: null, claimExpiresAt: null, expiresAt: null },
  ]);
}

for (const { source, skip } of SOURCES) {
  describe(`honker-ts CLI read commands on a file written by ${source}`, { skip }, () => {
    it("stats, jobs, dead and schedules print the file's content, and --json matches the API's", async () => {
      const path = tempDbPath();
      const s = await seed(source, path);
      const [hash, schema] = [fileHash(path), await schemaOf(path)];
      const ids = (jobs: unknown) => (jobs as JobJson[]).map((j) => j.id);
      const [
        stats,
        statsJson,
        jobs,
        jobsJson,
        pending,
        dead,
        limited,
        nobody,
        deadList,
        deadJson,
        thumbs,
        schedules,
        schedulesJson,
      ] = await Promise.all([
        cli(["stats", path]),
        cliJson(["stats", path]),
        cli(["jobs", path, "emails"]),
        cliJson<JobJson[]>(["jobs", path, "emails"]),
        cliJson(["jobs", path, "emails", "--state", "pending"]),
        cliJson(["jobs", path, "emails", "--state", "dead"]),
        cliJson(["jobs", path, "emails", "--limit", "2"]),
        cli(["jobs", path, "nobody", "--state", "processing"]),
        cli(["dead", path]),
        cliJson(["dead", path]),
        cliJson(["dead", path, "--queue", "thumbs"]),
        cli(["schedules", path]),
        cliJson(["schedules", path]),
      ]);
      // Nothing was written: not a byte of the file, not a line of the schema.
      assert.equal(fileHash(path), hash);
      assert.equal(await schemaOf(path), schema);

      const db = await open(path);
      try {
        checkStats(stats, statsJson, s, db, path);
        checkJobs(jobs, jobsJson, s, db);
        assert.deepEqual(ids(pending), [s.pending], "pending: due now; scheduled is its own state");
        assert.deepEqual(ids(dead), [s.dead]);
        assert.deepEqual(ids(limited), [s.processing, s.pending]);
        assert.equal(nobody.stdout, 'No processing jobs in queue "nobody"\n');
        const row = `^\\s*${s.dead}\\s+emails\\s+1/3\\s+(\\d+s ago|now)\\s+SMTP 550: mailbox unav`;
        assert.match(table(deadList, "dead"), new RegExp(row, "m"));
        assert.deepEqual(deadJson, db.queue("emails").deadLetters());
        assert.deepEqual(thumbs, []);
        // "in 5h 12m", or "in 53m 33s" when the test runs in the hour before 03:00.
        const next =
          /^nightly\s+reports\s+0 3 \* \* \*\s+in (\d+h \d+m|\d+m \d+s|\d+s)\s+\d{4}-\d\d-\d\d 03:00:00$/m;
        assert.match(table(schedules, "schedules"), next);
        assert.deepEqual(schedulesJson, db.scheduler().list());
        assert.deepEqual(
          (schedulesJson as Array<{ payload: unknown }>).map((t) => t.payload),
          [{ kind: "daily" }],
        );
      } finally {
        db.close();
      }
    });

    it("requeue and cancel do what they print, and go on past an unknown id (exit 1)", async () => {
      const path = tempDbPath();
      const s = await seed(source, path);
      const schema = await schemaOf(path);
      const [requeued, cancelled] = await Promise.all([
        cli(["requeue", path, "999999", String(s.dead)]),
        cliJson(["cancel", path, String(s.processing)]),
      ]);
      assert.equal(requeued.code, 1);
      assert.match(requeued.stderr, /^honker-ts requeue: job 999999 is not in the dead letters$/m);
      const done = /^Requeued dead job (\d+) as job (\d+) \(queue "emails"\)$/m.exec(
        requeued.stdout,
      );
      assert.ok(done, requeued.stdout);
      assert.equal(Number(done[1]), s.dead);
      assert.deepEqual(cancelled, [{ id: s.processing, queue: "emails", cancelled: true }]);
      const again = await cli(["cancel", path, String(s.processing)]);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /job \d+ is not a live job/);

      const db = await open(path);
      try {
        const queue = db.queue("emails");
        assert.deepEqual(queue.deadLetters(), []);
        const back = queue.getJob(Number(done[2]));
        assert.equal(back?.state, "pending");
        assert.deepEqual(back?.payload, { to: "dead@example.com" });
        assert.equal(back?.priority, 10);
        assert.equal(queue.getJob(s.processing), null);
      } finally {
        db.close();
      }
      assert.equal(await schemaOf(path), schema);
    });
  });
}

describe("honker-ts CLI schedules with croner's extended syntax", () => {
  it("schedules lists them from honker-ts's own table, as scheduler.list() does", async () => {
    const path = tempDbPath();
    const db = await open(path);
    try {
      const s = db.scheduler();
      s.add({ name: "month-end", queue: "q", schedule: "0 0 L * *", extendedSyntax: true });
      s.add({ name: "hourly", queue: "q", schedule: "0 * * * *" });
      const [human, json] = await Promise.all([
        cli(["schedules", path]),
        cliJson(["schedules", path]),
      ]);
      assert.match(table(human, "schedules"), /^month-end\s+q\s+0 0 L \* \*\s+in /m);
      assert.deepEqual(json, s.list());
      assert.deepEqual(s.list().map((t) => t.name), ["hourly", "month-end"]);
    } finally {
      db.close();
    }
  });
});
