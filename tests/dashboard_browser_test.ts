// The dashboard in a real browser (issue #20): Debian's chromium driven by playwright-core,
// against the handler mounted by a server of each runtime (node:http through toNodeListener(),
// Deno.serve, Bun.serve; tests/fixtures/dashboard_server.ts). The overview's counts match the
// file; a job enqueued by this (another) process appears within a second without a reload;
// requeue and purge work by clicking and are refused without the token or in read-only mode;
// the <script> payload stays inert; the keyboard reaches every action. A screenshot of each
// page is written under the test's temp folder. playwright-core runs under Node, so this file
// runs from the Node suite only; the servers it starts cover all three runtimes.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { spawn } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { open } from "../mod.ts";
import type { Database } from "../mod.ts";
import { removeTempDirs, tempDbPath } from "./_helpers.ts";
import { runtimeKey } from "./_runtime.ts";
import { exited, LineReader, RUNTIME_COMMANDS, runtimeBinaryMissing } from "./_spawn.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SERVER = fileURLToPath(new URL("./fixtures/dashboard_server.ts", import.meta.url));
const XSS = "<script>alert(1)</script>";

const skip = runtimeKey() !== "node"
  ? "playwright-core runs under Node: the browser tests run once, from the Node suite, " +
    "against servers on all three runtimes"
  : !existsSync(CHROMIUM)
  ? `no chromium at ${CHROMIUM} (apt install chromium, or set CHROMIUM_PATH)`
  : runtimeBinaryMissing();

// Types of the little of playwright-core used here, so that this file type-checks without it.
interface Locator {
  click(): Promise<void>;
  check(): Promise<void>;
  textContent(): Promise<string | null>;
  count(): Promise<number>;
  first(): Locator;
}
interface BrowserPage {
  goto(url: string): Promise<unknown>;
  locator(selector: string): Locator;
  screenshot(options: { path: string; fullPage: boolean }): Promise<unknown>;
  waitForFunction<A>(
    fn: (arg: A) => boolean,
    arg: A,
    options: { timeout: number },
  ): Promise<unknown>;
  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
  waitForSelector(selector: string, options?: { timeout: number }): Promise<unknown>;
  on(event: "dialog", fn: (dialog: { message(): string; dismiss(): Promise<void> }) => void): void;
  keyboard: { press(key: string): Promise<void> };
  close(): Promise<void>;
}
interface Browser {
  newPage(options: { viewport: { width: number; height: number } }): Promise<BrowserPage>;
  close(): Promise<void>;
}

/** The page's document, as the functions evaluated in the browser see it. */
declare const document: {
  body: { dataset: Record<string, string | undefined> };
  activeElement: { id: string } | null;
  querySelector(selector: string): { textContent: string | null } | null;
  getElementById(id: string): { textContent: string | null } | null;
};

after(removeTempDirs);

/** A dashboard server of one runtime on `file`, and its URL. */
interface Server {
  child: ChildProcessWithoutNullStreams;
  url: string;
}

async function startServer(
  runtime: keyof typeof RUNTIME_COMMANDS,
  file: string,
  mode: string,
): Promise<Server> {
  const [bin, ...args] = RUNTIME_COMMANDS[runtime];
  const env: Record<string, string | undefined> = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const child = spawn(bin, [...args, SERVER, file, mode], { env, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const line = await new LineReader(child).waitFor(/^http:/, 30_000).catch((error) => {
    throw new Error(`${runtime} server did not start: ${error.message}\n${stderr}`);
  });
  return { child, url: line.split(" ")[0] };
}

async function stopServer(server: Server): Promise<void> {
  server.child.kill("SIGTERM");
  const code = await Promise.race([
    exited(server.child),
    new Promise((r) => setTimeout(r, 5000, "timeout")),
  ]);
  if (code === "timeout") server.child.kill("SIGKILL");
}

/** The seed: queue "emails" with pending, scheduled, processing and dead jobs, a stream, a schedule. */
function seed(db: Database): { xssId: number; deadIds: number[]; runningId: number } {
  const emails = db.queue("emails", { maxAttempts: 1, events: true });
  emails.enqueueMany(Array.from({ length: 16 }, (_, i) => ({ to: `user${i}@example.com` })));
  emails.enqueue({ report: "monthly" }, { delayS: 3600 });
  const deadIds = [emails.claimOne("w1")!, emails.claimOne("w1")!].map((job) => {
    job.fail(`SMTP 550 for ${JSON.stringify(job.payload)}`);
    return job.id;
  });
  for (const job of emails.claimBatch("w1", 3)) {
    db.saveResult(job.id, { messageId: `<${job.id}@mail.example>` });
    job.ack();
  }
  const running = emails.claimOne("worker-7")!;
  running.progress({ step: "rendering", pct: 40 });
  const xssId = emails.enqueue({ html: XSS });
  db.queue("thumbnails").enqueueMany([{ id: 1 }, { id: 2 }], { priority: 5 });
  const orders = db.stream("orders");
  for (let i = 0; i < 30; i++) {
    orders.publish({ orderId: 1000 + i, total: 12.5 * i }, { key: `customer-${i % 4}` });
  }
  orders.saveOffset("billing", 24);
  orders.saveOffset("analytics", 30);
  db.scheduler().add({
    name: "nightly-report",
    queue: "reports",
    schedule: "0 3 * * *",
    payload: { kind: "nightly" },
  });
  db.notify("orders", { orderId: 1029 });
  db.tryLock("scheduler-leader", { owner: "host-a:4242", ttlS: 600 });
  return { xssId, deadIds, runningId: running.id };
}

function count(page: BrowserPage, queue: string, state: string): Promise<string | null> {
  return page.locator(`tr[data-queue="${queue}"] td[data-count="${state}"]`).textContent();
}

describe("dashboard in chromium", { skip }, () => {
  let browser: Browser;
  before(async () => {
    const { chromium } = await import("playwright-core") as unknown as {
      chromium: { launch(o: { executablePath: string; args: string[] }): Promise<Browser> };
    };
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  });
  after(async () => {
    await browser?.close();
  });

  for (const runtime of ["node", "deno", "bun"] as const) {
    describe(`served by ${runtime}`, () => {
      let db: Database;
      let server: Server;
      let path: string;
      let shots: string;
      let ids: { xssId: number; deadIds: number[]; runningId: number };
      let page: BrowserPage;
      const dialogs: string[] = [];

      before(async () => {
        path = tempDbPath(`${runtime}.db`);
        // DASHBOARD_SCREENSHOTS=DIR keeps them after the run (the temp folder is removed).
        const keep = process.env.DASHBOARD_SCREENSHOTS;
        shots = keep ? join(keep, runtime) : join(dirname(path), "screenshots");
        mkdirSync(shots, { recursive: true });
        db = await open(path);
        ids = seed(db);
        server = await startServer(runtime, path, "actions");
        page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
        page.on("dialog", (dialog) => {
          dialogs.push(dialog.message());
          void dialog.dismiss();
        });
        process.stdout.write(`# screenshots of the ${runtime} run: ${shots}\n`);
      });

      after(async () => {
        await page?.close();
        if (server) await stopServer(server);
        db?.close();
      });

      it("the overview's counts match the file", async () => {
        await page.goto(server.url);
        for (const name of ["emails", "thumbnails"]) {
          const stats = db.queue(name).stats();
          for (const state of ["pending", "scheduled", "processing", "dead"] as const) {
            assert.equal(await count(page, name, state), String(stats[state]), `${name} ${state}`);
          }
        }
        await page.screenshot({ path: join(shots, "overview.png"), fullPage: true });
      });

      it("a job enqueued by another process appears within 1 s, without a reload", async () => {
        await page.goto(server.url);
        await page.waitForFunction(() => document.body.dataset.live === "on", null, {
          timeout: 5000,
        });
        await page.evaluate(() => ((globalThis as { marker?: number }).marker = 42), null);
        const before = Number(await count(page, "emails", "pending"));
        const started = Date.now();
        db.queue("emails").enqueue({ to: "late@example.com" });
        await page.waitForFunction(
          (n) =>
            document.querySelector('tr[data-queue="emails"] td[data-count="pending"]')
              ?.textContent === String(n),
          before + 1,
          { timeout: 1000 },
        );
        const elapsedMs = Date.now() - started;
        assert.equal(
          await page.evaluate(() => (globalThis as { marker?: number }).marker, null),
          42,
          "the page was not reloaded",
        );
        process.stdout.write(`# ${runtime}: enqueue → overview updated in ${elapsedMs} ms\n`);
      });

      it("the <script> payload is shown as text and runs nothing", async () => {
        await page.goto(`${server.url}queues/emails/jobs/${ids.xssId}`);
        assert.match(
          (await page.locator("#payload").textContent()) ?? "",
          /<script>alert\(1\)<\/script>/,
        );
        await page.goto(`${server.url}queues/emails`);
        assert.deepEqual(dialogs, []);
        await page.screenshot({ path: join(shots, "queue.png"), fullPage: true });
        await page.goto(`${server.url}queues/emails/jobs/${ids.xssId}`);
        await page.screenshot({ path: join(shots, "job.png"), fullPage: true });
        await page.goto(`${server.url}queues/emails/jobs/${ids.runningId}`);
        assert.match((await page.locator("#progress").textContent()) ?? "", /"pct": 40/);
        await page.screenshot({ path: join(shots, "job-running.png"), fullPage: true });
        assert.deepEqual(dialogs, []);
      });

      it("the keyboard reaches every action on the queue, schedules, stream and notifications pages", async () => {
        for (
          const [where, wanted] of [
            ["queues/emails?state=dead", [
              `requeue-${ids.deadIds[0]}`,
              `requeue-${ids.deadIds[1]}`,
              "requeue-all-emails",
              "purge-emails-confirm",
              "purge-emails",
              "pause-queue-emails",
              "find",
            ]],
            ["schedules", ["pause-schedule-nightly-report", "run-schedule-nightly-report"]],
            ["streams/orders", [
              "remove-consumer-analytics-confirm",
              "remove-consumer-analytics",
              "remove-consumer-billing-confirm",
              "remove-consumer-billing",
            ]],
            ["notifications", ["channel", "tail-channel"]],
          ] as const
        ) {
          await page.goto(`${server.url}${where}`);
          const reached = new Set<string>();
          for (let i = 0; i < 60 && !wanted.every((id) => reached.has(id)); i++) {
            await page.keyboard.press("Tab");
            reached.add(await page.evaluate(() => document.activeElement?.id ?? "", null));
          }
          for (const id of wanted) {
            assert.ok(reached.has(id), `Tab never reaches #${id} on ${where}`);
          }
        }
      });

      it("requeue and purge work by clicking; a POST without the token is refused", async () => {
        await page.goto(`${server.url}queues/emails?state=dead`);
        await page.screenshot({ path: join(shots, "dead.png"), fullPage: true });
        const refused = await page.evaluate(async (id) => {
          const body = new URLSearchParams({ id: String(id) });
          return (await fetch("actions/requeue".replace(/^/, location.origin + "/"), {
            method: "POST",
            body,
          })).status;
        }, ids.deadIds[0]);
        assert.equal(refused, 403);
        assert.equal(db.queue("emails").stats().dead, 2);
        await page.locator(`#requeue-${ids.deadIds[0]}`).click();
        await page.waitForSelector(".flash", { timeout: 5000 });
        assert.match(
          (await page.locator(".flash").textContent()) ?? "",
          /Requeued job #\d+ as #\d+/,
        );
        assert.equal(db.queue("emails").stats().dead, 1);
        await page.waitForFunction(() => document.body.dataset.live === "on", null, {
          timeout: 5000,
        });
        await page.locator("#purge-emails-confirm").check();
        // A live update while the box is ticked keeps it ticked (and keeps the focus on it).
        const refreshes = Number(
          await page.evaluate(() => document.body.dataset.refreshes, null) ?? 0,
        );
        db.queue("emails").enqueue({ to: "during@example.com" });
        await page.waitForFunction(
          (n) => Number(document.body.dataset.refreshes ?? 0) > n,
          refreshes,
          { timeout: 2000 },
        );
        assert.equal(
          await page.evaluate(
            () => (document.activeElement as { checked?: boolean })?.checked,
            null,
          ),
          true,
        );
        await page.locator("#purge-emails").click();
        await page.waitForFunction(
          () => /Purged/.test(document.querySelector(".flash")?.textContent ?? ""),
          null,
          { timeout: 5000 },
        );
        assert.equal(db.queue("emails").stats().dead, 0);
      });

      it("screenshots of the stream, schedules and notifications pages", async () => {
        const pages = [
          ["stream", "streams/orders"],
          ["schedules", "schedules"],
          ["dead-letters", "dead"],
          ["notifications", "notifications?channel=orders"], // last: its live tail is checked next
        ];
        for (const [name, where] of pages) {
          await page.goto(`${server.url}${where}`);
          await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
        }
        await page.waitForFunction(() => document.body.dataset.live === "on", null, {
          timeout: 5000,
        });
        db.notify("orders", { orderId: 1030, note: XSS });
        await page.waitForFunction(
          () => /1030/.test(document.getElementById("tail")?.textContent ?? ""),
          null,
          { timeout: 2000 },
        );
        assert.deepEqual(dialogs, []);
      });

      it("read-only: no action in the pages, and a POST with a real session is refused", async () => {
        const readOnly = await startServer(runtime, path, "read-only");
        try {
          await page.goto(`${readOnly.url}queues/emails?state=dead`);
          assert.equal(await page.locator("form[method=post]").count(), 0);
          const status = await page.evaluate(async () => {
            const body = new URLSearchParams({
              queue: "emails",
              confirm: "yes",
              csrf: "0".repeat(64),
            });
            return (await fetch(location.origin + "/actions/purge", { method: "POST", body }))
              .status;
          }, null);
          assert.equal(status, 403);
        } finally {
          await stopServer(readOnly);
        }
      });
    });
  }
});
