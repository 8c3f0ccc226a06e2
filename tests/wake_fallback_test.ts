// What a Deno program is told when its wake-ups degrade: polling instead of file-system events
// (no --allow-ffi), or no watcher at all (no read access to honker-ts's own files, which its
// worker threads load). Each is reported once per process on stderr, never per Database, and
// never when the program chose wake: "poll" itself.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { tempDbPath } from "./_helpers.ts";
import { collect, RUNTIME_COMMANDS } from "./_spawn.ts";
import type { ChildResult } from "./_spawn.ts";

const SCRIPT = fileURLToPath(new URL("./fixtures/wake_fallback_peer.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const [DENO] = RUNTIME_COMMANDS.deno;
const skip = existsSync(DENO) ? undefined : "the deno binary is missing from node_modules/.bin";

/** Runs the fixture under Deno with exactly `permissions` (no -A). */
function runDeno(permissions: readonly string[], path: string, wake: string): Promise<ChildResult> {
  const argv = ["run", "--no-prompt", ...permissions, SCRIPT, path, wake];
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1" };
  delete env.NODE_TEST_CONTEXT;
  return collect(spawn(DENO, argv, { cwd: ROOT, env, stdio: ["pipe", "pipe", "pipe"] }));
}

/** The lines honker-ts wrote to the console. */
function reports(result: ChildResult): string[] {
  return result.stderr.split("\n").filter((line) => line.startsWith("honker-ts: "));
}

const NO_FFI = ["--allow-read", "--allow-write", "--allow-env", "--allow-sys"];

describe("wake fallback reports", { skip }, () => {
  it(
    "on Deno without --allow-ffi, polling instead of fs events is reported once for two Databases",
    {
      timeout: 60_000,
    },
    async () => {
      const result = await runDeno(NO_FFI, tempDbPath(), "auto");
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(result.stdout.trim().split("\n"), ["wakeSource poll", "wakeSource poll"]);
      const lines = reports(result);
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0], /polling/);
      assert.match(lines[0], /honker issue #80/);
      assert.match(lines[0], /--allow-ffi/);
      assert.match(lines[0], /wake: "poll"/);
    },
  );

  it('on Deno without --allow-ffi, Databases that chose wake: "poll" report nothing', {
    timeout: 60_000,
  }, async () => {
    const result = await runDeno(NO_FFI, tempDbPath(), "poll");
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.stdout.trim().split("\n"), ["wakeSource poll", "wakeSource poll"]);
    assert.deepEqual(reports(result), [], result.stderr);
  });

  it(
    "on Deno without read access to honker-ts's files, the watcher that could not start is reported once",
    {
      timeout: 60_000,
    },
    async () => {
      const path = tempDbPath();
      const dir = dirname(path);
      const result = await runDeno(
        [`--allow-read=${dir}`, `--allow-write=${dir}`, "--allow-ffi"],
        path,
        "auto",
      );
      assert.equal(result.code, 0, result.stderr);
      // Waits poll on their own timeouts, every 500 ms: not fs events, whatever was planned.
      assert.deepEqual(result.stdout.trim().split("\n"), ["wakeSource poll", "wakeSource poll"]);
      const lines = reports(result);
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0], /could not start/);
      assert.match(lines[0], /--allow-read/);
    },
  );
});
