// bench/worker_bench.ts in its --quick form on the runtime running the tests: it runs, and
// prints each ratio with its target marked. The figures are the benchmark's business.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { runScript } from "./_spawn.ts";

const BENCH = fileURLToPath(new URL("../bench/worker_bench.ts", import.meta.url));

describe("bench/worker_bench.ts", () => {
  it("--quick prints the trigger's and the run options' ratios with their targets", {
    timeout: 120_000,
  }, async () => {
    const { code, stdout, stderr } = await runScript(BENCH, ["--quick"]);
    assert.equal(code, 0, stderr.slice(-3000));
    for (const label of [/50 round trips: trigger ÷ none/, /drain 20: run options ÷ none/]) {
      const line = stdout.split("\n").find((l) => label.test(l));
      assert.ok(line, `no line ${label} in:\n${stdout}`);
      assert.match(line, /= \d+\.\d\d× \(target ≤ \d\.\d\d×: (met|not met)\)$/);
    }
  });
});
