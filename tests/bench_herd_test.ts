// bench/herd_bench.ts, the CPU another process's commits cost a waiting worker: bad arguments
// are refused with a message that names them, and a quick run on this runtime prints its
// figures. The figures themselves are the benchmark's business, not a test's.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { runScript } from "./_spawn.ts";
import { runtimeKey } from "./_runtime.ts";

const HERD = fileURLToPath(new URL("../bench/herd_bench.ts", import.meta.url));

describe("bench/herd_bench.ts", () => {
  it("refuses an unknown argument, runtime or a rate that is not a positive number", {
    timeout: 60_000,
  }, async () => {
    const unknown = await runScript(HERD, ["--rep=3"]);
    assert.equal(unknown.code, 2, unknown.stderr);
    assert.match(unknown.stderr, /Cannot run the herd benchmark: unknown argument "--rep=3"/);
    const runtime = await runScript(HERD, ["--runtimes=node,java"]);
    assert.equal(runtime.code, 2, runtime.stderr);
    assert.match(runtime.stderr, /unknown runtime "java"/);
    const rate = await runScript(HERD, ["--rate=fast"]);
    assert.equal(rate.code, 2, rate.stderr);
    assert.match(rate.stderr, /--rate wants a positive number/);
  });

  it("runs a waiting worker on this runtime beside a producer and prints its figures", {
    timeout: 120_000,
  }, async () => {
    const runtime = runtimeKey();
    const run = await runScript(HERD, ["--quick", `--runtimes=${runtime}`]);
    assert.equal(run.code, 0, run.stderr.slice(-3000));
    const line = run.stdout.split("\n").find((l) => l.startsWith(runtime));
    assert.ok(line, `no line for ${runtime} in:\n${run.stdout}`);
    assert.match(line, /idle ms\/s \d+\.\d/);
    assert.match(line, /µs per commit -?\d+/);
    // Every commit raises an event the worker confirms; it looks at its queue for most of them.
    const statements = Number(/statements per commit (\d+\.\d\d) \(/.exec(line)?.[1]);
    assert.ok(statements > 0.2 && statements < 5, `${statements} statements per commit`);
  });
});
