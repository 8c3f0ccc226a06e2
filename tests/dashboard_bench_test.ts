// bench/dashboard_bench.ts (issue #20: the dashboard's pages on a big file, their query plans,
// and the idle cost of an open dashboard), run end to end in its --quick form on the runtime
// running the tests: it exits 0 (no full scan of a big table) and prints every figure with its
// verdict. The figures themselves are the benchmark's business.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { runScript } from "./_spawn.ts";

const BENCH = fileURLToPath(new URL("../bench/dashboard_bench.ts", import.meta.url));

describe("bench/dashboard_bench.ts", () => {
  it("--quick times every page against the plain path, checks the query plans, and the idle cost", {
    timeout: 180_000,
  }, async () => {
    const { code, stdout, stderr } = await runScript(BENCH, ["--quick"]);
    assert.equal(
      code,
      0,
      `dashboard_bench.ts exited ${code}:\n${stdout.slice(-3000)}\n${stderr.slice(-3000)}`,
    );
    const ms = String.raw`\s+\d+\.\d\d ms`;
    for (const row of ["overview", "queue page", "queue page, dead tab"]) {
      assert.match(
        stdout,
        new RegExp(`^${row}${ms}  target (met|NOT met) \\(≤ \\d+ ms\\)$`, "m"),
        stdout,
      );
    }
    assert.match(
      stdout,
      new RegExp(`^plain stats\\(\\) × 10${ms}  overview ÷ plain: \\d+\\.\\d\\d×$`, "m"),
    );
    assert.match(stdout, /^idle worker\s+\d+\.\d\d\s+dashboard ÷ worker: \d+\.\d\d× \(target/m);
    assert.match(stdout, /^Query plans: every big table is read through an index/m);
  });
});
