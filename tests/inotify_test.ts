// Deno's and Bun's file-system events: inotify read through libc in a worker thread
// (wake/sources/inotify_*.ts), because Deno's own watchers open and close the files they report
// (honker issue #80), and Bun's fs.watch drops an event within a millisecond of another.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { open } from "../mod.ts";
import { parseInotifyEvents } from "../wake/sources/libc_inotify.ts";
import { assertCommitWakesClaim, tempDbPath } from "./_helpers.ts";
import { inotifySkipReason } from "./_inotify.ts";
import { runtimeKey } from "./_runtime.ts";
import { collect } from "./_spawn.ts";

/** One `struct inotify_event` with its name NUL-padded to `padTo` bytes, as the kernel does. */
function record(mask: number, name: string, padTo: number): Uint8Array {
  const bytes = new Uint8Array(16 + padTo);
  const view = new DataView(bytes.buffer);
  view.setInt32(0, 1, true);
  view.setUint32(4, mask, true);
  view.setUint32(12, padTo, true);
  bytes.set(new TextEncoder().encode(name), 16);
  return bytes;
}

const inotifySkip = inotifySkipReason();

describe("inotify", () => {
  it("parses consecutive events with padded names and nameless ones", () => {
    const parts = [record(0x2, "app.db-wal", 16), record(0x4000, "", 0), record(0x80, "é.db", 32)];
    const buffer = new Uint8Array(parts.reduce((n, p) => n + p.length, 0) + 100);
    let at = 0;
    for (const part of parts) {
      buffer.set(part, at);
      at += part.length;
    }
    assert.deepEqual(parseInotifyEvents(buffer, at), [
      { mask: 0x2, name: "app.db-wal" },
      { mask: 0x4000, name: "" },
      { mask: 0x80, name: "é.db" },
    ]);
    assert.deepEqual(parseInotifyEvents(buffer, 0), []);
  });

  it(
    "on Deno and Bun, wake fs wakes a waiter on another connection's commit, not on the backstop",
    {
      skip: inotifySkip,
      timeout: 30_000,
    },
    async () => {
      const path = tempDbPath();
      // The backstop poll is an hour away: only an inotify event can wake the waiter in time.
      const db = await open(path, { wake: "fs", backstopPollMs: 3_600_000 });
      const other = await open(path, { wake: "poll" });
      try {
        assert.equal(db.wakeSource, "fs");
        await assertCommitWakesClaim(db, other, 1_000, async () => {
          await new Promise((resolve) => setTimeout(resolve, 300)); // the worker's watch is in place
          // Unrelated files in the directory do not wake it.
          for (let i = 0; i < 20; i++) writeFileSync(join(dirname(path), `other-${i}.txt`), "x");
        });
      } finally {
        other.close();
        db.close();
      }
    },
  );

  it(
    "on Deno and Bun, auto mode ends up on fs events",
    { skip: inotifySkip, timeout: 30_000 },
    async () => {
      const db = await open(tempDbPath());
      try {
        void db.updates().next(); // the watcher starts at the first wait; close() ends it
        // auto probes the directory once the worker's watch is in place and falls back to poll
        // after 1 s without the probe file's event.
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        assert.equal(db.wakeSource, "fs");
      } finally {
        db.close();
      }
    },
  );

  it("on Deno without --allow-ffi, auto polls and wake fs is refused with the reason", {
    skip: runtimeKey() === "deno" ? undefined : "about Deno's permissions",
    timeout: 60_000,
  }, async () => {
    const script = fileURLToPath(new URL("./fixtures/wake_mode_probe.ts", import.meta.url));
    const permissions = ["--allow-read", "--allow-write", "--allow-env", "--allow-sys"];
    const child = spawn(process.execPath, ["run", ...permissions, script, tempDbPath()]);
    const result = await collect(child);
    assert.equal(result.code, 0, result.stderr);
    const [auto, fs] = result.stdout.trim().split("\n");
    assert.equal(auto, "auto poll");
    assert.match(fs, /^fs refused: .*honker issue #80.*--allow-ffi.*use "poll"/);
  });
});
