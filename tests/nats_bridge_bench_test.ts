// bench/nats_bridge_bench.ts (issue #21: the bridge against raw JetStream publishing, and the
// commit-to-commit latency between two hosts), run end to end in its --quick form on the runtime
// running the tests: it exits 0 and prints every figure with its ratio and verdict. The figures
// themselves are the benchmark's business.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { natsSkipReason } from "./_nats.ts";
import { runScript } from "./_spawn.ts";

const BENCH = fileURLToPath(new URL("../bench/nats_bridge_bench.ts", import.meta.url));

describe("bench/nats_bridge_bench.ts", { skip: natsSkipReason() }, () => {
  it("--quick measures the bridge against raw publishing and the latency between two files", {
    timeout: 120_000,
  }, async () => {
    const { code, stdout, stderr } = await runScript(BENCH, ["--quick"]);
    assert.equal(code, 0, `nats_bridge_bench.ts exited ${code}:\n${stderr.slice(-3000)}`);
    assert.match(stdout, /^raw @nats-io\/jetstream\s+\d+\s+\d+, \d+$/m, stdout);
    assert.match(stdout, /^honker-ts bridge\s+\d+\s+\d+, \d+$/m, stdout);
    assert.match(stdout, /^per-round bridge \/ raw\s+\d+\.\d\d\s+\d+\.\d\d, \d+\.\d\d$/m, stdout);
    assert.match(
      stdout,
      /^bridge \/ raw: \d+\.\d\d× \(median of 2 interleaved rounds\) \(target ≥ 0\.8 (met|NOT met)\)$/m,
      stdout,
    );
    assert.match(stdout, /p50 \d+\.\d ms, p99 \d+\.\d ms$/m, stdout);
  });
});
