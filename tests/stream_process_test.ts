// Streams and notify/listen across real processes (spec §3.2, §4.4, §9 items 38–41, 46–47): child
// processes of the runtime running the tests publish, subscribe, notify and listen on one file.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { open } from "../mod.ts";
import { removeTempDirs, tempDbPath } from "./_helpers.ts";
import { exited, LineReader, runScript, spawnScript } from "./_spawn.ts";

const PEER = fileURLToPath(new URL("./fixtures/stream_peer.ts", import.meta.url));
const SLOW = { timeout: 60_000 };
const EVENTS = 5_000;
const NOTIFICATIONS = 200;
after(removeTempDirs);

/** A started peer and its output. */
interface Peer {
  child: ReturnType<typeof spawnScript>;
  out: LineReader;
}

/** Starts a peer and waits until it printed `ready`. */
async function startPeer(args: string[]): Promise<Peer> {
  const child = spawnScript(PEER, args);
  child.stdin.end();
  const out = new LineReader(child);
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  try {
    await out.waitFor(/^ready$/, 20_000);
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`${args[0]} peer did not start: ${(error as Error).message}\n${stderr}`);
  }
  return { child, out };
}

/** Waits for the peer's `end` line and its exit 0. */
async function finished(peer: Peer, timeoutMs: number): Promise<void> {
  await peer.out.waitFor(/^end$/, timeoutMs);
  assert.equal(await exited(peer.child), 0);
}

/** The `e <offset> <i>` lines of a subscriber, as [offset, i] pairs. */
function eventsOf(peer: Peer): Array<[number, number]> {
  return peer.out.lines.filter((line) => line.startsWith("e ")).map((line) => {
    const [, offset, i] = line.split(" ");
    return [Number(offset), Number(i)];
  });
}

/** The topic's offsets and payload indexes, read back from the file. */
async function storedEvents(path: string, topic: string): Promise<Array<[number, number]>> {
  const db = await open(path);
  try {
    return db.stream<{ i: number }>(topic).readSince(0, EVENTS * 2)
      .map((e) => [e.offset, e.payload.i]);
  } finally {
    db.close();
  }
}

async function publishLive(path: string, batch: number, gapMs: number) {
  const args = ["publish", path, "orders", String(EVENTS), String(batch), String(gapMs), "noise"];
  const result = await runScript(PEER, args);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^done$/m);
}

describe("streams across processes", () => {
  it(
    `3 subscriber processes each get all ${EVENTS} events, in order, exactly once`,
    SLOW,
    async () => {
      const path = tempDbPath();
      (await open(path)).close();
      const subscribers = await Promise.all(
        ["s1", "s2", "s3"].map((c) => startPeer(["subscribe", path, "orders", c, "1000"])),
      );
      await publishLive(path, 100, 2);
      await Promise.all(subscribers.map((s) => finished(s, 30_000)));
      const stored = await storedEvents(path, "orders");
      assert.deepEqual(stored.map(([, i]) => i), Array.from({ length: EVENTS }, (_, i) => i));
      // The noise topic interleaved its events, so the topic's offsets have gaps.
      assert.ok(stored.at(-1)![0] > EVENTS, "offsets have gaps");
      for (const [n, s] of subscribers.entries()) {
        assert.deepEqual(eventsOf(s), stored, `subscriber ${n + 1}`);
      }
      const db = await open(path);
      for (const c of ["s1", "s2", "s3"]) {
        assert.equal(db.stream("orders").getOffset(c), stored.at(-1)![0], `saved offset of ${c}`);
      }
      db.close();
    },
  );

  it(
    "a subscriber SIGKILLed mid-handler and restarted gets every event at least once",
    SLOW,
    async () => {
      const path = tempDbPath();
      (await open(path)).close();
      // Saves come every 50 handled events (and when caught up, which batches of 50 also align
      // with), so dying while handling event 1023 leaves 1001–1023 unsaved.
      const [saveEveryN, hangAfter] = [50, 1_023];
      const args = ["subscribe", path, "orders", "crashy", String(saveEveryN)];
      const first = await startPeer([...args, String(hangAfter)]);
      const producing = publishLive(path, 50, 10);
      await first.out.waitFor(/^hang$/, 30_000);
      first.child.kill("SIGKILL");
      await exited(first.child);
      const db = await open(path);
      const saved = db.stream("orders").getOffset("crashy");
      db.close();
      const restarted = await startPeer(args);
      await producing;
      await finished(restarted, 30_000);

      const stored = await storedEvents(path, "orders");
      assert.equal(stored.length, EVENTS);
      const before = eventsOf(first);
      const afterRestart = eventsOf(restarted);
      assert.deepEqual(before, stored.slice(0, hangAfter), "in order up to the crash");
      assert.equal(saved, stored[999][0], "the saved offset covers the first 1000 handled events");
      // The restart begins at the first unsaved event, redelivers 1001–1023 and skips none.
      assert.deepEqual(afterRestart, stored.slice(1000));
      const union = new Set([...before, ...afterRestart].map(([offset]) => offset));
      assert.equal(union.size, EVENTS);
    },
  );
});

describe("notify/listen across processes", () => {
  it(
    `two listener processes each see all ${NOTIFICATIONS} of their channel and no other`,
    SLOW,
    async () => {
      const path = tempDbPath();
      const db = await open(path);
      db.notify("alpha", "sent before the listeners attached");
      const listeners = await Promise.all(
        ["alpha", "beta"].map((ch) => startPeer(["listen", path, ch, String(NOTIFICATIONS)])),
      );
      const sender = await runScript(PEER, [
        "notify",
        path,
        String(NOTIFICATIONS),
        "alpha",
        "beta",
        "gamma",
      ]);
      assert.equal(sender.code, 0, sender.stderr);
      await Promise.all(listeners.map((l) => finished(l, 30_000)));
      for (const [k, channel] of ["alpha", "beta"].entries()) {
        const got = listeners[k].out.lines.filter((line) => line.startsWith("n ")).map((line) => {
          const [, id, ...json] = line.split(" ");
          return { id: Number(id), payload: JSON.parse(json.join(" ")) };
        });
        const ids = db.driver.all<{ id: number }>(
          "SELECT id FROM _honker_notifications WHERE channel = ? AND id > 1 ORDER BY id",
          [channel],
        ).map((row) => row.id);
        assert.deepEqual(got.map((n) => n.id), ids, `${channel}: the ids sent, in order`);
        assert.deepEqual(
          got.map((n) => n.payload),
          Array.from({ length: NOTIFICATIONS }, (_, i) => ({ ch: channel, i })),
        );
      }
      db.close();
    },
  );
});
