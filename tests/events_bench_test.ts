// bench/events_bench.ts run end to end in its --quick form on the runtime running the tests:
// every case runs and every ratio and lag line has a figure and a verdict. The figures
// themselves are the benchmark's business, not a test's.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { runScript } from "./_spawn.ts";

const BENCH = fileURLToPath(new URL("../bench/events_bench.ts", import.meta.url));

describe("bench/events_bench.ts", () => {
  it(
    "--quick measures claim+ack and enqueue with events on, off and without triggers, and waitFor's lag",
    {
      timeout: 120_000,
    },
    async () => {
      const { code, stdout, stderr } = await runScript(BENCH, ["--quick"]);
      assert.equal(code, 0, `events_bench.ts exited ${code}:\n${stderr.slice(-3000)}`);
      const ratio = /(\d+\.\d\d|NaN)x/;
      assert.match(
        stdout,
        /claim\+ack events on \/ events off +\d+\.\d\dx +target ≤ 1\.5x: (met|NOT MET)/,
      );
      assert.match(stdout, /mitata's medians \/ means +\d+\.\d\dx \/ \d+\.\d\dx/);
      assert.match(
        stdout,
        /WAL frames per claim\+ack +events on \d+\.\d\d, events off \d+\.\d\d, no triggers \d+\.\d\d/,
      );
      assert.match(stdout, /claim\+ack events off \/ no triggers +\d+\.\d\dx/);
      assert.match(stdout, /enqueue events on \/ events off +\d+\.\d\dx/);
      assert.doesNotMatch(
        stdout.split("claim+ack interleaved")[1] ?? "NaN",
        /NaN/,
        "a figure is missing",
      );
      assert.ok(ratio.test(stdout));
      assert.match(stdout, /waitFor after an ack, same process +p50 \d+\.\d{3} ms/);
      assert.match(
        stdout,
        /waitFor after an ack, other process +p50 \d+\.\d{3} ms .* target p50 ≤ 1 ms: (met|NOT MET)/,
      );
    },
  );
});
