// The dashboard's handler (issue #20) without a browser: pages show what the file holds, every
// payload and error is text, actions need actions: true, a Database from open() and the
// session's CSRF token, a read-only view never changes the file, and /live streams a commit
// from another connection. Every driver of the matrix; the browser tests are
// tests/dashboard_browser_test.ts.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import process from "node:process";
import { open } from "../mod.ts";
import type { Database } from "../mod.ts";
import { dashboard, openReadOnly } from "../dashboard/mod.ts";
import { driverMatrix } from "./_drivers.ts";
import { withDb } from "./_db.ts";
import { removeTempDirs, tempDbPath } from "./_helpers.ts";
import { Client, outcome, overviewCount, SseReader } from "./_dashboard.ts";
import { cli, startCli } from "./_cli.ts";
import { exited, LineReader } from "./_spawn.ts";
import { honkerExtSkip, openHonkerExt } from "./_honker_ext.ts";

after(removeTempDirs);
const EXT_SKIP = await honkerExtSkip();

const XSS = "<script>alert(1)</script>";

/** Two queues with jobs in every state, a stream with a consumer, a notification. */
function seed(db: Database): { deadId: number; xssId: number } {
  const emails = db.queue("emails", { maxAttempts: 1 });
  emails.enqueueMany([{ n: 1 }, { n: 2 }, { n: 3 }]);
  const xssId = emails.enqueue({ html: XSS });
  emails.enqueue({ later: true }, { delayS: 3600 });
  const failed = emails.claimOne("w1")!;
  failed.fail(`boom ${XSS}`);
  emails.claimOne("w1");
  db.queue("thumbnails").enqueue({ id: 1 });
  const orders = db.stream("orders");
  for (let i = 0; i < 5; i++) orders.publish({ i });
  orders.saveOffset("billing", 2);
  return { deadId: failed.id, xssId };
}

describe("dashboard() options", () => {
  it("refuses unknown options, a bad basePath, and actions on a read-only view", async () => {
    const path = tempDbPath();
    const db = await open(path);
    try {
      assert.throws(
        () => dashboard(db, { action: true } as never),
        /Cannot create the dashboard: unknown option "action"/,
      );
      assert.throws(() => dashboard(db, { basePath: "admin" }), TypeError);
      assert.throws(() => dashboard(db, { actions: "yes" as never }), /actions must be a boolean/);
      const view = await openReadOnly(path);
      try {
        assert.throws(
          () => dashboard(view, { actions: true }),
          /actions need a Database from open\(\)/,
        );
      } finally {
        view.close();
      }
      await assert.rejects(openReadOnly(`${path}.missing`), /no such file/);
    } finally {
      db.close();
    }
  });
});

for (const entry of driverMatrix()) {
  describe(`dashboard on ${entry.id}`, { skip: entry.skip }, () => {
    it(
      "the overview's counts match queue.stats() and the dead letters",
      withDb(entry, async (db) => {
        seed(db);
        const { status, html } = await new Client(dashboard(db)).page("/");
        assert.equal(status, 200);
        for (const name of ["emails", "thumbnails"]) {
          const stats = db.queue(name).stats();
          for (const state of ["pending", "scheduled", "processing", "dead"] as const) {
            assert.equal(overviewCount(html, name, state), stats[state], `${name} ${state}`);
          }
        }
        assert.match(html, /billing<\/span> at 2, lag 3/);
      }),
    );

    it(
      "a payload and an error holding <script> are shown as text, never as markup",
      withDb(entry, async (db) => {
        const { deadId, xssId } = seed(db);
        const client = new Client(dashboard(db));
        for (
          const path of [
            `/queues/emails/jobs/${xssId}`,
            `/queues/emails/jobs/${deadId}`,
            "/queues/emails",
            "/queues/emails?state=dead",
            "/dead",
          ]
        ) {
          const { status, html } = await client.page(path);
          assert.equal(status, 200, path);
          assert.doesNotMatch(html, /<script>alert\(1\)<\/script>/, path);
        }
        const job = await client.page(`/queues/emails/jobs/${xssId}`);
        assert.match(job.html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
        const dead = await client.page(`/queues/emails/jobs/${deadId}`);
        assert.match(dead.html, /boom &lt;script&gt;/);
      }),
    );

    it(
      "requeue and purge work with the session's token and are refused without it",
      withDb(entry, async (db) => {
        const { deadId } = seed(db);
        db.queue("emails").claimOne("w2")!.fail("second");
        const client = new Client(dashboard(db, { actions: true }));
        const token = await client.token("/queues/emails?state=dead");
        assert.match(token, /^[0-9a-f]{64}$/);
        const back = "/queues/emails?state=dead";
        // Without a token, with a wrong one, from another origin, or without the session cookie.
        assert.equal(
          (await client.post("/actions/requeue", { id: String(deadId), back })).status,
          403,
        );
        assert.equal(
          (await client.post("/actions/requeue", { id: String(deadId), csrf: "0".repeat(64) }))
            .status,
          403,
        );
        const foreign = await client.request("/actions/requeue", {
          method: "POST",
          headers: {
            "content-type": "application/x-www-form-urlencoded",
            origin: "http://evil.example",
          },
          body: new URLSearchParams({ id: String(deadId), csrf: token }).toString(),
        });
        assert.equal(foreign.status, 403);
        const stranger = new Client(dashboard(db, { actions: true }));
        assert.equal(
          (await stranger.post("/actions/requeue", { id: String(deadId), csrf: token })).status,
          403,
        );
        assert.equal(db.queue("emails").stats().dead, 2, "nothing changed while refused");

        const requeued = await client.post("/actions/requeue", {
          id: String(deadId),
          csrf: token,
          back,
        });
        assert.equal(requeued.status, 303);
        assert.match(outcome(requeued).done ?? "", /^Requeued job #\d+ as #\d+$/);
        assert.equal(db.queue("emails").stats().dead, 1);
        // Purge needs the confirmation box ticked.
        const unconfirmed = await client.post("/actions/purge", {
          queue: "emails",
          csrf: token,
          back,
        });
        assert.match(outcome(unconfirmed).error ?? "", /^Cannot purge the dead letters of emails/);
        assert.equal(db.queue("emails").stats().dead, 1);
        const purged = await client.post("/actions/purge", {
          queue: "emails",
          csrf: token,
          confirm: "yes",
          back,
        });
        assert.equal(outcome(purged).done, "Purged 1 dead job of emails");
        assert.equal(db.queue("emails").stats().dead, 0);
      }),
    );

    it(
      "pause and resume a queue and a schedule, run a schedule now, remove a consumer",
      withDb(entry, async (db) => {
        seed(db);
        const client = new Client(dashboard(db, { actions: true }));
        const csrf = await client.token("/queues/emails");
        await client.post("/actions/queue-pause", { queue: "emails", csrf });
        assert.equal(db.queue("emails").isPaused(), true);
        assert.match(
          (await client.page("/")).html,
          /emails<\/a>\s*<span class="badge paused">paused/,
        );
        await client.post("/actions/queue-resume", { queue: "emails", csrf });
        assert.equal(db.queue("emails").isPaused(), false);
        // The redirect after an action goes back to a page of the dashboard, never elsewhere.
        for (
          const back of [
            "//evil.example/x",
            "/.//evil.example/x",
            "/\\evil.example",
            "http://evil.example/",
          ]
        ) {
          const response = await client.post("/actions/queue-pause", {
            queue: "emails",
            csrf,
            back,
          });
          const location = response.headers.get("location") ?? "";
          assert.match(location, /^\/(?!\/)/, `back=${back} → ${location}`);
          assert.doesNotMatch(location, /evil/, `back=${back} → ${location}`);
        }
        db.scheduler().add({
          name: "nightly",
          queue: "reports",
          schedule: "0 3 * * *",
          payload: { kind: "nightly" },
        });
        await client.post("/actions/schedule-pause", { name: "nightly", csrf });
        assert.equal(db.scheduler().list()[0].enabled, false);
        await client.post("/actions/schedule-resume", { name: "nightly", csrf });
        assert.equal(db.scheduler().list()[0].enabled, true);
        const ran = await client.post("/actions/schedule-run", { name: "nightly", csrf });
        assert.match(outcome(ran).done ?? "", /^Ran schedule nightly now: job #\d+ in reports$/);
        assert.deepEqual(db.queue("reports").claimOne("w")?.payload, { kind: "nightly" });
        await client.post("/actions/remove-consumer", {
          topic: "orders",
          consumer: "billing",
          csrf,
          confirm: "yes",
        });
        assert.deepEqual(db.stream("orders").consumers(), []);
      }),
    );

    it(
      "without actions: no forms, and every POST is refused",
      withDb(entry, async (db) => {
        const { deadId } = seed(db);
        const client = new Client(dashboard(db));
        const { html } = await client.page("/queues/emails?state=dead");
        assert.doesNotMatch(html, /<form[^>]*method="post"/);
        const response = await client.post("/actions/requeue", { id: String(deadId), csrf: "x" });
        assert.equal(response.status, 403);
        assert.equal(db.queue("emails").stats().dead, 1);
      }),
    );

    it(
      "search finds a job by id or by unique key, and its page shows the key",
      withDb(entry, async (db) => {
        seed(db);
        const keyed = db.queue("emails").enqueue({ order: 42 }, { key: "order-42" });
        const client = new Client(dashboard(db));
        const find = async (q: string) => {
          const response = await client.request(`/queues/emails/find?q=${encodeURIComponent(q)}`);
          assert.equal(response.status, 303);
          return response.headers.get("location") ?? "";
        };
        assert.equal(await find("order-42"), `/queues/emails/jobs/${keyed}`);
        assert.equal(await find(`#${keyed}`), `/queues/emails/jobs/${keyed}`);
        assert.match(decodeURIComponent(await find("no-such-key")), /error=No job matches/);
        const page = await client.page(`/queues/emails/jobs/${keyed}`);
        assert.match(page.html, /<dt>unique key<\/dt>\s*<dd>order-42 \(live, held\)/);
        // Keys are freed lazily: the row outlives its job. A dead job's page must not say held.
        const orders = db.queue("orders", { maxAttempts: 1 });
        const doomed = orders.enqueue({ order: 7 }, { key: "order-7" });
        orders.claimOne("w")!.fail("card declined");
        const dead = await client.page(`/queues/orders/jobs/${doomed}`);
        assert.match(dead.html, /<dt>unique key<\/dt>\s*<dd>order-7 \(live, freed\)/);
      }),
    );

    it(
      "with job events: throughput, failure rate, and a job's progress, result and events",
      withDb(entry, async (db) => {
        const reports = db.queue("reports", { events: true, maxAttempts: 1 });
        const [a, b, c, d] = reports.enqueueMany([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
        const jobs = reports.claimBatch("w", 3);
        db.saveResult(a, { pages: 12, html: XSS });
        jobs.find((j) => j.id === a)!.ack();
        jobs.find((j) => j.id === b)!.ack();
        jobs.find((j) => j.id === c)!.fail("renderer crashed");
        const running = reports.claimOne("w")!;
        assert.equal(running.id, d);
        running.progress({ pct: 50 });
        const client = new Client(dashboard(db));
        const overview = (await client.page("/")).html;
        const row = /<tr data-queue="reports">([\s\S]*?)<\/tr>/.exec(overview)?.[1] ?? "";
        assert.match(row, /data-rate="throughput">\s*0\.4\/min/); // 2 completed in 5 minutes
        assert.match(row, /data-rate="failures">\s*33\.3%/);
        const live = (await client.page(`/queues/reports/jobs/${d}`)).html;
        assert.match(live, /<pre id="progress">[^<]*&quot;pct&quot;: 50/);
        assert.match(live, /<td>enqueued<\/td>[\s\S]*<td>active<\/td>[\s\S]*<td>progress<\/td>/);
        const done = await client.page(`/queues/reports/jobs/${a}`);
        assert.equal(done.status, 200, "a completed job's page shows what it left");
        assert.match(done.html, /<pre id="result">[^<]*&lt;script&gt;/);
        assert.match(done.html, /<td>completed<\/td>/);
      }),
    );

    it(
      "/live streams a change when another connection commits",
      withDb(entry, async (db, path) => {
        seed(db);
        const client = new Client(dashboard(db));
        const response = await client.request("/live");
        assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
        const live = new SseReader(response);
        const other = await open(path);
        try {
          await live.until(/: connected/, 2000);
          await live.settle(300); // whatever the watcher's start reports
          other.queue("emails").enqueue({ from: "elsewhere" });
          await live.until(/event: change/, 5000);
        } finally {
          await live.close();
          other.close();
        }
      }),
    );

    it(
      "/live?channel= streams each new notification of that channel as data",
      withDb(entry, async (db, path) => {
        const client = new Client(dashboard(db));
        db.notify("orders", { old: true });
        const live = new SseReader(await client.request("/live?channel=orders"));
        const other = await open(path);
        try {
          await live.until(/: connected/, 2000);
          other.notify("other", { no: true });
          other.notify("orders", { html: XSS });
          const text = await live.until(/event: notification\ndata: .*alert/, 5000);
          assert.doesNotMatch(text, /old|"no"/);
        } finally {
          await live.close();
          other.close();
        }
      }),
    );
  });
}

describe("dashboard mounting", () => {
  it("serves under basePath only, links stay under it, and authorize() decides first", async () => {
    const path = tempDbPath();
    const db = await open(path);
    try {
      seed(db);
      const asked: string[] = [];
      const handler = dashboard(db, {
        basePath: "/admin/queues/",
        authorize: (request) => {
          asked.push(new URL(request.url).pathname);
          if (request.headers.get("x-user") === "admin") return true;
          return request.headers.get("x-user") === "guest"
            ? new Response("log in first", { status: 401 })
            : false;
        },
      });
      const admin = new Client(handler);
      const get = (p: string, user: string) => admin.request(p, { headers: { "x-user": user } });
      const page = await get("/admin/queues/", "admin");
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.match(html, /href="\/admin\/queues\/queues\/emails"/);
      assert.match(html, /data-base="\/admin\/queues"/);
      assert.equal((await get("/admin/queues/queues/emails", "admin")).status, 200);
      assert.equal((await get("/elsewhere", "admin")).status, 404);
      assert.equal((await get("/admin/queues/", "nobody")).status, 403);
      assert.equal((await get("/admin/queues/", "guest")).status, 401);
      assert.equal((await get("/admin/queues/no/such/page", "admin")).status, 404);
      assert.ok(asked.includes("/admin/queues/"));
    } finally {
      db.close();
    }
  });
});

describe("read-only view", () => {
  it("never changes the file or its -wal, while pages are read and /live is open", async () => {
    const path = tempDbPath();
    const writer = await open(path);
    const { deadId } = seed(writer);
    writer.queue("emails").enqueue({ more: true }); // the -wal holds committed frames now
    const files = () =>
      [path, `${path}-wal`].map((file) => {
        const stat = statSync(file);
        return { file, mtimeMs: stat.mtimeMs, bytes: readFileSync(file).toString("base64") };
      });
    const before = files();
    const view = await openReadOnly(path);
    try {
      const client = new Client(dashboard(view));
      for (
        const page of [
          "/",
          "/queues/emails",
          `/queues/emails/jobs/${deadId}`,
          "/dead",
          "/streams/orders",
          "/schedules",
          "/notifications?channel=orders",
        ]
      ) {
        assert.equal((await client.page(page)).status, 200, page);
      }
      const live = new SseReader(await client.request("/live"));
      await live.until(/: connected/, 2000);
      await live.close();
      const refused = await client.post("/actions/requeue", { id: String(deadId), csrf: "x" });
      assert.equal(refused.status, 403);
    } finally {
      view.close();
    }
    try {
      assert.deepEqual(files(), before);
    } finally {
      writer.close();
    }
  });
});

describe("honker-ts dashboard", () => {
  it("serves the file read-only on 127.0.0.1, prints its URL, and exits 0 on SIGTERM", async () => {
    const path = tempDbPath();
    const db = await open(path);
    seed(db);
    db.close();
    const child = startCli(["dashboard", path, "--port", "0"]);
    try {
      const url = (await new LineReader(child).waitFor(/^http:/, 20_000)).trim();
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      const overview = await fetch(url);
      assert.equal(overview.status, 200);
      assert.match(await overview.text(), /<span class="mode">read-only<\/span>/);
      const refused = await fetch(`${url}actions/purge`, { method: "POST", body: "queue=emails" });
      assert.equal(refused.status, 403);
    } finally {
      // Not child.kill(): on Deno that reports the signal as the exit cause even when the
      // child handled it and exited 0.
      process.kill(child.pid as number, "SIGTERM");
    }
    assert.equal(await exited(child), 0);
  });

  it("refuses a bad --port with a usage error", async () => {
    const { code, stderr } = await cli(["dashboard", "app.db", "--port", "http"]);
    assert.equal(code, 2);
    assert.match(stderr, /--port must be 0 to 65535, got "http"/);
  });
});

describe("a file with only some of honker's tables", () => {
  it("renders every page (missing tables read as empty) and tails a channel it has no table for", async () => {
    const path = tempDbPath();
    const { DatabaseSync } = await import("node:sqlite");
    const raw = new DatabaseSync(path);
    raw.exec("PRAGMA journal_mode = WAL");
    raw.exec(`CREATE TABLE _honker_live (id INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL,
      payload TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'pending', priority INTEGER NOT NULL DEFAULT 0,
      run_at INTEGER NOT NULL DEFAULT (unixepoch()), worker_id TEXT, claim_expires_at INTEGER,
      attempts INTEGER NOT NULL DEFAULT 0, max_attempts INTEGER NOT NULL DEFAULT 3,
      created_at INTEGER NOT NULL DEFAULT (unixepoch()), expires_at INTEGER)`);
    raw.exec(`INSERT INTO _honker_live (queue, payload) VALUES ('bare', '{"n":1}')`);
    raw.close();
    const view = await openReadOnly(path);
    try {
      const client = new Client(dashboard(view));
      for (
        const page of [
          "/",
          "/queues/bare",
          "/queues/bare/jobs/1",
          "/dead",
          "/streams/none",
          "/schedules",
          "/notifications?channel=x",
        ]
      ) {
        assert.equal((await client.page(page)).status, 200, page);
      }
      assert.equal(overviewCount((await client.page("/")).html, "bare", "pending"), 1);
      const live = new SseReader(await client.request("/live?channel=x"));
      await live.until(/: connected/, 2000);
      await live.close();
    } finally {
      view.close();
    }
  });
});

describe("a file written by honker's own extension", () => {
  it("is shown read-only as honker wrote it, its tables and schema untouched", {
    skip: EXT_SKIP,
  }, async () => {
    const path = tempDbPath();
    const ext = await openHonkerExt(path);
    const MASTER = "SELECT type, name, sql FROM sqlite_master ORDER BY name";
    try {
      for (let i = 0; i < 4; i++) ext.enqueue("honker-jobs", { n: i, html: XSS });
      const [claimed] = ext.claim("honker-jobs", "hw", 1);
      ext.call("SELECT honker_fail(?, 'hw', 'boom from honker')", [claimed.id]);
      ext.call("SELECT honker_stream_publish('honker-topic', 'k', '{\"a\":1}')");
      const schema = ext.rows(MASTER);
      const view = await openReadOnly(path);
      try {
        const client = new Client(dashboard(view));
        const overview = await client.page("/");
        assert.equal(overviewCount(overview.html, "honker-jobs", "pending"), 3);
        assert.equal(overviewCount(overview.html, "honker-jobs", "dead"), 1);
        assert.match(overview.html, /honker-topic/);
        const dead = await client.page(`/queues/honker-jobs/jobs/${claimed.id}`);
        assert.match(dead.html, /boom from honker/);
        assert.doesNotMatch(dead.html, /<script>alert/);
      } finally {
        view.close();
      }
      assert.deepEqual(ext.rows(MASTER), schema);
    } finally {
      ext.close();
    }
  });
});
