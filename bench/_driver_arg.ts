/**
 * The `--driver=NAME` option shared by the benchmarks that run on one adapter: the named
 * built-in adapter, or the runtime's default when the option is absent.
 *
 * @module
 */

import process from "node:process";
import { defaultDriverName } from "../adapters/auto.ts";
import type { DriverName } from "../adapters/auto.ts";

const DRIVER_NAMES: readonly DriverName[] = ["node-sqlite", "bun-sqlite", "deno-ffi", "bun-ffi"];

/** The adapter named by `--driver=` in `argv`, or the runtime's default. */
export function driverArg(argv: readonly string[] = process.argv): DriverName {
  const value = argv.find((a) => a.startsWith("--driver="))?.slice("--driver=".length);
  if (value === undefined) return defaultDriverName();
  if (!DRIVER_NAMES.includes(value as DriverName)) {
    throw new TypeError(
      `Cannot run the benchmark: unknown --driver ${JSON.stringify(value)} (${DRIVER_NAMES})`,
    );
  }
  return value as DriverName;
}
