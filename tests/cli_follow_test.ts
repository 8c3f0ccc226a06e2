// The follow commands of `honker-ts` (tail, listen, watch), run as child processes of the runtime
// under test: each prints what another connection commits after it started (honker-ts's, or
// honker's own extension's), and exits 0 on SIGTERM, leaving the file's schema as it was.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { removeTempDirs, tempDbPath } from "./_helpers.ts";
import { honkerExtSkip } from "./_honker_ext.ts";
import { exited, LineReader } from "./_spawn.ts";
import { openWriter, schemaOf, seed, startCli, stderrOf } from "./_cli.ts";
import type { Source } from "./_cli.ts";

const EXT_SKIP = await honkerExtSkip();
const SOURCES: Array<{ source: Source; skip: string | undefined }> = [
  { source: "honker-ts", skip: undefined },
  { source: "honker", skip: EXT_SKIP },
];
const WAIT_MS = 20_000;
after(removeTempDirs);

/** A running CLI: its stdout lines and a wait on its stderr. */
function follow(args: string[]) {
  const child = startCli(args);
  child.stdin.end();
  return { child, out: new LineReader(child), err: stderrOf(child) };
}

/** Sends SIGTERM and expects a clean exit 0. */
async function stop(child: ReturnType<typeof startCli>, what: string): Promise<void> {
  // Not child.kill(): on Deno that reports the signal as the exit cause even when the child
  // handled it and exited 0.
  process.kill(child.pid as number, "SIGTERM");
  const code = await exited(child);
  assert.equal(code, 0, `${what} exited ${code} (signal ${child.signalCode})`);
}

for (const { source, skip } of SOURCES) {
  describe(`honker-ts follow commands on a file written by ${source}`, { skip }, () => {
    it("tail prints events published after it started, of its topic only; --from replays", async () => {
      const path = tempDbPath();
      const seeded = await seed(source, path);
      const schema = await schemaOf(path);
      const live = follow(["tail", path, "orders"]);
      const replay = follow(["tail", path, "orders", "--from", String(seeded.orders[0]), "--json"]);
      await live.err(/following stream "orders" after offset \d+/);
      await replay.err(/following stream "orders" after offset \d+/);
      const w = await openWriter(source, path);
      let offset: number;
      try {
        w.publish("audit", { skip: true });
        offset = w.publish("orders", { id: 4 }, "customer-9");
      } finally {
        w.close();
      }
      const line = await live.out.waitFor(/\{"id":4\}/, WAIT_MS);
      assert.match(
        line,
        new RegExp(`^\\d\\d:\\d\\d:\\d\\d  #${offset}  key=customer-9  \\{"id":4\\}$`),
      );
      await replay.out.waitForCount(/^\{/, 3, WAIT_MS);
      await stop(live.child, "tail");
      await stop(replay.child, "tail --from");
      assert.deepEqual(live.out.lines.filter((l) => l !== ""), [line]);
      const events = replay.out.lines.filter((l) => l !== "").map((l) => JSON.parse(l));
      assert.deepEqual(events.map((e) => [e.offset, e.topic, e.key, e.payload]), [
        [seeded.orders[1], "orders", "customer-7", { id: 2 }],
        [seeded.orders[2], "orders", null, { id: 3 }],
        [offset, "orders", "customer-9", { id: 4 }],
      ]);
      assert.equal(await schemaOf(path), schema);
    });

    it("listen prints notifications sent on its channel after it started", async () => {
      const path = tempDbPath();
      await seed(source, path);
      const schema = await schemaOf(path);
      const before = await openWriter(source, path);
      before.notify("alerts", { old: true });
      before.close();
      const human = follow(["listen", path, "alerts"]);
      const json = follow(["listen", path, "alerts", "--json"]);
      await human.err(/listening on channel "alerts"/);
      await json.err(/listening on channel "alerts"/);
      const w = await openWriter(source, path);
      try {
        w.notify("other", { nope: 1 });
        w.notify("alerts", { level: "high", text: "disk 91%" });
      } finally {
        w.close();
      }
      const line = await human.out.waitFor(/level/, WAIT_MS);
      assert.match(line, /^\d\d:\d\d:\d\d {2}#\d+ {2}\{"level":"high","text":"disk 91%"\}$/);
      const [first] = await json.out.waitForCount(/^\{/, 1, WAIT_MS);
      await stop(human.child, "listen");
      await stop(json.child, "listen --json");
      const n = JSON.parse(first);
      assert.equal(n.channel, "alerts");
      assert.deepEqual(n.payload, { level: "high", text: "disk 91%" });
      assert.equal(typeof n.id, "number");
      assert.equal(typeof n.createdAt, "number");
      assert.equal(human.out.lines.filter((l) => l !== "").length, 1);
      assert.equal(json.out.lines.filter((l) => l !== "").length, 1);
      assert.equal(await schemaOf(path), schema);
    });

    it("watch prints a line for each queue or stream a later commit changed", async () => {
      const path = tempDbPath();
      const seeded = await seed(source, path);
      const schema = await schemaOf(path);
      const lines = follow(["watch", path]);
      const json = follow(["watch", path, "--json"]);
      await lines.out.waitFor(/ queue emails pending=1 scheduled=1 processing=1 dead=1$/, WAIT_MS);
      await lines.out.waitFor(/ schedule nightly queue=reports next_fire="[-\d: ]+"$/, WAIT_MS);
      const [initial] = await json.out.waitForCount(/^\{/, 1, WAIT_MS);
      assert.equal(JSON.parse(initial).queues[0].pending, 1);
      const w = await openWriter(source, path);
      let offset: number;
      try {
        w.enqueue("emails", { to: "c@example.com" });
        offset = w.publish("orders", { id: 5 });
      } finally {
        w.close();
      }
      await lines.out.waitFor(/ queue emails pending=2 scheduled=1 processing=1 dead=1$/, WAIT_MS);
      await lines.out.waitFor(
        new RegExp(` stream orders last_offset=${offset} events=4$`),
        WAIT_MS,
      );
      await lines.out.waitFor(
        new RegExp(` consumer orders billing offset=${seeded.orders[0]} lag=3$`),
        WAIT_MS,
      );
      const snaps = await json.out.waitForCount(/"lastOffset":\d+,"events":4/, 1, WAIT_MS);
      await stop(lines.child, "watch");
      await stop(json.child, "watch --json");
      const last = JSON.parse(snaps[0]);
      assert.equal(last.queues[0].pending, 2);
      // Unchanged things are printed once, at the start.
      assert.equal(lines.out.lines.filter((l) => / queue thumbs /.test(l)).length, 1);
      assert.equal(await schemaOf(path), schema);
    });
  });
}
