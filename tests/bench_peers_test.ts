// bench/peers.ts, the benchmark of honker-ts against BullMQ, plainjob and the raw SQLite floor
// (issue #16), run end to end in its --quick form on the runtime running the tests: every case
// runs on every system and the table has a number in every cell it should. The figures
// themselves are not asserted: they are the benchmark's business, not a test's.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { redisSkipReason } from "../bench/_redis.ts";
import { ROWS } from "../bench/_peers_report.ts";
import { runtimeKey } from "./_runtime.ts";
import { runScript } from "./_spawn.ts";

const PEERS = fileURLToPath(new URL("../bench/peers.ts", import.meta.url));
const NODE = fileURLToPath(new URL("../node_modules/.bin/node", import.meta.url));
/** Every case on five systems, each in fresh processes: about two minutes on two cores. */
const TIMEOUT_MS = 15 * 60_000;
/** The rows the raw floor has a figure in (the drains at 8 and 64 show the sequential floor). */
const FLOOR_CASES = ["enqueue", "enqueue-bulk", "drain-1", "drain-8", "drain-64", "drain-4x8"];

function skipReason(): string | undefined {
  if (!existsSync(NODE)) return "node_modules/.bin/node is missing (run npm ci): BullMQ needs it";
  return redisSkipReason();
}

/** The cells of the table row `label` on `runtime`, keyed by column heading. */
function tableRow(stdout: string, label: string, runtime: string): Record<string, string> {
  const lines = stdout.split("\n").filter((line) => line.startsWith("| "));
  const cells = (line: string) => line.split("|").slice(1, -1).map((cell) => cell.trim());
  const header = cells(lines[0]);
  const line = lines.find((l) => cells(l)[0] === label && cells(l)[1] === runtime);
  assert.ok(line, `no table row "${label}" on ${runtime} in:\n${stdout}`);
  return Object.fromEntries(cells(line).map((cell, i) => [header[i], cell]));
}

describe("bench/peers.ts", { skip: skipReason() }, () => {
  it(
    "--quick runs every case on honker-ts, BullMQ, plainjob and the raw floor and prints every figure",
    { timeout: TIMEOUT_MS },
    async () => {
      const runtime = runtimeKey();
      const { code, stdout, stderr } = await runScript(PEERS, ["--quick", `--runtimes=${runtime}`]);
      assert.equal(code, 0, `peers.ts exited ${code}:\n${stderr.slice(-3000)}`);
      assert.doesNotMatch(stdout, /Missing figures/, `some runs failed:\n${stdout}`);
      const number = /^\d+(\.\d+)?(k\/s|\/s| ms\/s| ms| MB)?$/;
      for (const row of ROWS) {
        const cells = tableRow(stdout, row.label, runtime);
        const columns = row.metric === "statements"
          ? ["honker-ts"]
          : ["honker-ts", "BullMQ", "BullMQ (AOF everysec)", "plainjob"];
        if (FLOOR_CASES.includes(row.caseKey)) columns.push("raw floor", "÷ raw floor");
        for (const column of columns) {
          assert.match(
            cells[column],
            column.startsWith("÷") ? /^\d+\.\d\d×$/ : number,
            `${row.label}, ${column}`,
          );
        }
      }
      assert.match(stdout, /Targets of issue #16/);
      assert.match(stdout, new RegExp(`drain by 4 processes .*: ${runtime} (met|NOT MET) \\(`));
    },
  );

  it(
    "the two idle CPU cases, whose ratio is a target, take turns repetition by repetition",
    { timeout: TIMEOUT_MS },
    async () => {
      const runtime = runtimeKey();
      const args = [
        "--quick",
        "--only=idle-cpu-64,idle-cpu-1",
        "--reps=2",
        `--runtimes=${runtime}`,
      ];
      const { code, stderr } = await runScript(PEERS, args);
      assert.equal(code, 0, `peers.ts exited ${code}:\n${stderr.slice(-3000)}`);
      const honkerRuns = [...stderr.matchAll(/\] (idle-cpu-\d+) honker on \w+, run (\d)/g)]
        .map((m) => `${m[1]} ${m[2]}`);
      // In table order (1, then 64), whatever order --only named them in.
      assert.deepEqual(honkerRuns, [
        "idle-cpu-1 1",
        "idle-cpu-64 1",
        "idle-cpu-1 2",
        "idle-cpu-64 2",
      ]);
    },
  );
});

describe("bench/peers.ts arguments", () => {
  it(
    "an unknown argument is refused by name before anything runs",
    { timeout: 60_000 },
    async () => {
      const refusals: [string[], RegExp][] = [
        [["--help"], /unknown argument "--help"/],
        [["--rep=3"], /unknown argument "--rep=3"/],
        [["--only=nope"], /unknown case "nope"/],
        [["--quick", "--runtimes=node", "--runtimes=bun"], /"--runtimes" given twice/],
      ];
      for (const [args, named] of refusals) {
        const arg = args.join(" ");
        const started = performance.now();
        const { code, stderr } = await runScript(PEERS, args);
        assert.notEqual(code, 0, `peers.ts ${arg} exited 0`);
        assert.match(stderr, named);
        // Refused up front: not after running a case (the quickest takes seconds).
        assert.ok(
          performance.now() - started < 20_000,
          `${arg} took ${performance.now() - started} ms`,
        );
      }
    },
  );
});
