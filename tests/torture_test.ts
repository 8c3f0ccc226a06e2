// The multi-runtime torture run (tests/torture/run.ts), shortened: Node, Deno and Bun producers,
// workers (SIGKILLed and restarted at random), subscribers and schedulers on one file, then every
// invariant checked from the file. The long run is `npm run torture -- --seconds 1800 --strict`.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { runtimeKey } from "./_runtime.ts";
import { RUNTIME_COMMANDS, runtimeBinaryMissing } from "./_spawn.ts";

const RUN = fileURLToPath(new URL("./torture/run.ts", import.meta.url));
const SECONDS = 25;

// One run covers all three runtimes at once, so it belongs to one suite only.
const skip = runtimeKey() !== "node"
  ? "the torture run starts Node, Deno and Bun processes itself, so it runs from the Node suite"
  : runtimeBinaryMissing();

describe("torture", () => {
  it(`Node, Deno and Bun processes keep every invariant for ${SECONDS} s of kills`, {
    skip,
    timeout: 300_000,
  }, async (t) => {
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const child = spawn(RUNTIME_COMMANDS.node[0], [
      "--no-warnings",
      RUN,
      "--seconds",
      String(SECONDS),
    ], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (exitCode) => resolve(exitCode));
    });
    for (const line of stdout.trimEnd().split("\n")) t.diagnostic(line);
    assert.equal(code, 0, `the torture run failed:\n${stdout}\n${stderr}`);
    assert.match(stdout, /^PASS$/m);
  });
});
