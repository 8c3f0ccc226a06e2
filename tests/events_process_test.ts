// Job events and waitFor() across processes: waitFor() in this process settles within a few
// milliseconds of another process's ack; an events consumer SIGKILLed and restarted from its
// saved offset misses no event. Runs once, from the Node suite (child processes of its runtime).

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { open } from "../mod.ts";
import { removeTempDirs, sleep, tempDbPath } from "./_helpers.ts";
import { runtimeKey } from "./_runtime.ts";
import { exited, LineReader, spawnScript } from "./_spawn.ts";

const PEER = fileURLToPath(new URL("./fixtures/events_peer.ts", import.meta.url));
const skip = runtimeKey() === "node"
  ? undefined
  : "the cross-process job-event tests run once, from the Node suite";

after(removeTempDirs);

const nowMs = () => performance.timeOrigin + performance.now();

describe("job events across processes", () => {
  it("waitFor() settles within 5 ms (median) of another process's ack", {
    skip,
    timeout: 60_000,
  }, async () => {
    const path = tempDbPath();
    const db = await open(path);
    const q = db.queue("q");
    const peer = spawnScript(PEER, ["ack", path, "q"]);
    const out = new LineReader(peer);
    try {
      await out.waitFor(/^ready$/, 20_000);
      const lagsMs: number[] = [];
      for (let i = 0; i < 40; i++) {
        const id = q.enqueue(i);
        await q.waitFor(id, { timeoutMs: 10_000, idlePollMs: null });
        const settledAt = nowMs();
        const acked = await out.waitFor(new RegExp(`^acked ${id} `), 5_000);
        lagsMs.push(settledAt - Number(acked.split(" ")[2]));
        await sleep(5);
      }
      lagsMs.sort((a, b) => a - b);
      const median = lagsMs[lagsMs.length >> 1];
      const shown = lagsMs.map((ms) => ms.toFixed(2)).join(" ");
      console.log(`waitFor after another process's ack: median ${median.toFixed(2)} ms (${shown})`);
      assert.ok(median <= 5, `median ${median.toFixed(2)} ms: ${shown}`);
    } finally {
      peer.kill("SIGKILL");
      await exited(peer);
      db.close();
    }
  });

  it("a consumer SIGKILLed and restarted from its saved offset misses no event", {
    skip,
    timeout: 60_000,
  }, async () => {
    const path = tempDbPath();
    const offsetFile = tempDbPath("offset.txt");
    const db = await open(path);
    const q = db.queue<number>("q", { events: true });
    const seen = new Set<number>();
    const consume = async (until: () => boolean, kill: boolean) => {
      const peer = spawnScript(PEER, ["consume", path, "q", offsetFile]);
      const out = new LineReader(peer);
      await out.waitFor(/^ready$/, 20_000);
      let produced = 0;
      while (!until()) {
        // Events of every kind, some in one transaction, some one at a time.
        const ids = q.enqueueMany([produced, produced + 1]);
        q.claimBatch("w", 1)[0]?.ack();
        q.claimOne("w")?.retry(0, "again");
        produced += 2;
        await sleep(2);
        for (const text of out.lines) {
          if (text.startsWith("e ")) seen.add(Number(text.split(" ")[1]));
        }
        if (kill && ids[0] > 60) break;
      }
      if (kill) {
        await out.waitFor(/^e /, 10_000);
        peer.kill("SIGKILL");
      } else {
        const last =
          db.driver.get<{ id: number }>("SELECT max(id) AS id FROM _honker_ts_job_events")!.id;
        await out.waitFor(new RegExp(`^e ${last} `), 20_000);
        peer.kill("SIGTERM");
      }
      await exited(peer);
      for (const text of out.lines) if (text.startsWith("e ")) seen.add(Number(text.split(" ")[1]));
    };
    try {
      await consume(() => false, true);
      const beforeRestart = seen.size;
      assert.ok(beforeRestart > 0, "the consumer saw events before it was killed");
      let rounds = 0;
      await consume(() => ++rounds > 30, false);
      const all = db.driver.all<{ id: number }>("SELECT id FROM _honker_ts_job_events ORDER BY id")
        .map((r) => r.id);
      const missed = all.filter((id) => !seen.has(id));
      assert.deepEqual(missed, [], `missed ${missed.length} of ${all.length} events`);
      assert.ok(all.length > beforeRestart, "events were recorded after the restart too");
    } finally {
      db.close();
    }
  });
});
