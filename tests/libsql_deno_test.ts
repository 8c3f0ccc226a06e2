// libsql on Deno: it is out of Deno's driver matrix because it crashes `deno test` when the
// runner tears down (tests/_drivers.ts), so an application's use of it is checked here in a
// `deno run` process: open({ driver: "libsql" }), a worker woken by another process's commit,
// the stream, notifications, a lock and a rate limit.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { open } from "../mod.ts";
import { EMPTY_QUEUE_STATS, removeTempDirs, tempDbPath } from "./_helpers.ts";
import { runtimeKey } from "./_runtime.ts";
import { collect, LineReader, RUNTIME_COMMANDS, runtimeBinaryMissing } from "./_spawn.ts";

after(removeTempDirs);

const PEER = fileURLToPath(new URL("./fixtures/libsql_peer.ts", import.meta.url));

// One `deno run` covers it; Node and Bun run libsql through the driver matrix.
const skip = runtimeBinaryMissing() ??
  (runtimeKey() === "deno"
    ? undefined
    : "libsql on Deno is checked from the Deno suite; here libsql is in the driver matrix");

describe("libsql under deno run", () => {
  it("a worker on libsql is woken by another process's job and uses every feature", {
    skip,
    timeout: 60_000,
  }, async () => {
    const path = tempDbPath();
    const [deno, ...args] = RUNTIME_COMMANDS.deno;
    const env: Record<string, string | undefined> = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const child = spawn(deno, [...args, PEER, path], { env, stdio: ["pipe", "pipe", "pipe"] });
    child.stdin.end();
    const lines = new LineReader(child);
    const ended = collect(child);
    try {
      await lines.waitFor(/^ready$/, 30_000);
      const producer = await open(path);
      try {
        producer.queue("jobs").enqueue({ from: "producer" });
      } finally {
        producer.close();
      }
      const result = await ended;
      assert.equal(result.code, 0, result.stderr);
      const report = JSON.parse(lines.lines.filter((line) => line.startsWith("{")).at(-1) ?? "{}");
      assert.deepEqual(report, {
        driver: "libsql",
        payload: { from: "producer" },
        acked: true,
        stats: EMPTY_QUEUE_STATS,
        events: [1, 2],
        lock: true,
        rate: [true, false],
      });
    } finally {
      child.kill();
    }
  });
});
