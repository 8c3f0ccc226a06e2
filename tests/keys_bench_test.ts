// bench/keys_bench.ts run end to end in its --quick form on the runtime running the tests: every
// case runs and every comparison prints its figures, the target marked. The figures themselves
// are not asserted: they are the benchmark's business, not a test's.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { runScript } from "./_spawn.ts";

const BENCH = fileURLToPath(new URL("../bench/keys_bench.ts", import.meta.url));
const ROWS = [
  "enqueue: new key / plain",
  "enqueue: floor (+1 row) / plain",
  "enqueue: over a stale row / plain",
  "enqueue: duplicate key / plain",
  "enqueue: new debounce key / plain",
  "claim+ack: keyed / plain jobs",
];

describe("bench/keys_bench.ts", () => {
  it("--quick runs every case and prints every ratio, the key target marked", {
    timeout: 120_000,
  }, async () => {
    const { code, stdout, stderr } = await runScript(BENCH, ["--quick"]);
    assert.equal(code, 0, `keys_bench.ts exited ${code}:\n${stderr.slice(-3000)}`);
    for (const label of ROWS) {
      const line = stdout.split("\n").find((l) => l.startsWith(label));
      assert.ok(line, `no row "${label}" in:\n${stdout}`);
      const figures = line.slice(label.length).trim().split(/\s+/);
      for (const figure of figures.slice(0, 6)) assert.match(figure, /^\d+(\.\d+)?x?$/, line);
    }
    assert.match(stdout, /enqueue: new key \/ plain.*<= 1\.30x \(paired\): (met|NOT MET)/);
  });
});
