/**
 * The differential test's sequences on libsql, as a program for model_test.ts on Deno: libsql
 * crashes `deno test` when the runner tears down (tests/_drivers.ts), so on Deno the test runs
 * libsql's sequences in a `deno run` process instead:
 *
 * ```sh
 * deno run -A tests/differential/_libsql_deno_run.ts <first seed> <last seed>
 * ```
 *
 * Prints the timing line of the run, then one JSON line: `{"skip": reason}` when libsql does not
 * load here, else `{"failures": [report, …]}` (none when every sequence agrees with honker).
 * DIFF_STEPS is read from the environment, as in the test.
 *
 * Named without `_test` so that `deno test` and `bun test` do not pick it up.
 *
 * @module
 */

import process from "node:process";
import { openLibsql } from "../../adapters/libsql.ts";
import type { DriverEntry } from "../_drivers.ts";
import { removeTempDirs } from "../_helpers.ts";
import { prepareClocks } from "./_clock.ts";
import { runSeeds } from "./_run.ts";

const [first, last] = process.argv.slice(2).map(Number);
if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last) || last < first) {
  throw new RangeError(
    `Cannot run sequences: expected <first seed> <last seed>, got ${
      process.argv.slice(2).join(" ")
    }`,
  );
}

const libsql: DriverEntry = {
  id: "libsql",
  skip: undefined,
  supportsFunctions: false,
  open: (path) => openLibsql(path),
};

let loads: string | undefined;
try {
  (await openLibsql(":memory:")).close();
} catch (error) {
  loads = `libsql does not load under deno run: ${(error as Error).message}`;
}
if (loads !== undefined) {
  console.log(JSON.stringify({ skip: loads }));
} else {
  try {
    prepareClocks([libsql]);
    const seeds = Array.from({ length: last - first + 1 }, (_, i) => first + i);
    console.log(JSON.stringify({ failures: await runSeeds([libsql], seeds) }));
  } finally {
    removeTempDirs();
  }
}
