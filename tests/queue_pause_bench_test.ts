// bench/queue_pause_bench.ts (issue #19: a paused queue costs idle workers nothing extra), run
// end to end in its --quick form on the runtime running the tests: it exits 0 and prints every
// figure with its ratio and verdict. The figures themselves are the benchmark's business.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { runScript } from "./_spawn.ts";

const BENCH = fileURLToPath(new URL("../bench/queue_pause_bench.ts", import.meta.url));

describe("bench/queue_pause_bench.ts", () => {
  it("--quick times the look and the idle cost of a paused queue against an empty one", {
    timeout: 120_000,
  }, async () => {
    const { code, stdout, stderr } = await runScript(BENCH, ["--quick"]);
    assert.equal(code, 0, `queue_pause_bench.ts exited ${code}:\n${stderr.slice(-3000)}`);
    const figure = String.raw`\s+\d+\.\d\s+\d+\.\d\s+\d+\.\d\d× \(target (met|NOT met)\)$`;
    for (const row of ["look µs \\(mean\\)", "statements / s", "CPU ms / s"]) {
      assert.match(stdout, new RegExp(`^${row}${figure}`, "m"), stdout);
    }
  });
});
