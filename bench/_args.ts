/**
 * The command line of a benchmark script: `--name=value` options and bare `--name` flags, every
 * argument checked by name before anything runs (an unknown one, silently ignored, ran a whole
 * benchmark with the defaults), and how a benchmark whose arguments were refused exits.
 *
 * @module
 */

import process from "node:process";

/**
 * Runs a benchmark's `main`: a `TypeError` (a bad argument, refused before anything ran) is
 * printed alone and exits with status 2; anything else is thrown as it is.
 */
export async function runBench(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 2;
  }
}

/** A command line read by `readArgs()`. */
export interface BenchArgs {
  /** Each `--name=value` option given, by name. */
  values: Map<string, string>;
  /** The bare `--name` flags given. */
  flags: Set<string>;
}

/**
 * Reads `argv`, calling `fail` with a message that names the first argument that is neither
 * one of `options` (as `--name=value`) nor one of `flags` (as `--name`), or repeats one: which
 * of two values was meant is not for the script to guess.
 */
export function readArgs(
  argv: readonly string[],
  options: readonly string[],
  flags: readonly string[],
  fail: (message: string) => never,
): BenchArgs {
  const read: BenchArgs = { values: new Map(), flags: new Set() };
  for (const arg of argv) {
    const at = arg.indexOf("=");
    const name = arg.slice(2, at < 0 ? undefined : at);
    if (read.values.has(name) || read.flags.has(name)) fail(`"--${name}" given twice`);
    if (arg.startsWith("--") && at < 0 && flags.includes(name)) read.flags.add(name);
    else if (arg.startsWith("--") && at >= 0 && options.includes(name)) {
      read.values.set(name, arg.slice(at + 1));
    } else {
      const usage = [...flags.map((f) => `--${f}`), ...options.map((o) => `--${o}=…`)];
      fail(`unknown argument "${arg}" (${usage.join(", ")})`);
    }
  }
  return read;
}

/**
 * The comma-separated `text` as a list, calling `fail` with a message that names the first item
 * not in `allowed` (`what` says what an item is: "runtime", "case").
 */
export function listArg<T extends string>(
  text: string,
  allowed: readonly T[],
  what: string,
  fail: (message: string) => never,
): T[] {
  const items = text.split(",").filter(Boolean);
  for (const item of items) {
    if (!allowed.includes(item as T)) fail(`unknown ${what} "${item}" (${allowed})`);
  }
  return items as T[];
}

/** Option `--name`'s value `text` (`fallback` when absent) as a whole number ≥ 1, or `fail`. */
export function wholeNumberArg(
  name: string,
  text: string | undefined,
  fallback: number,
  fail: (message: string) => never,
): number {
  const value = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(value) || value < 1) fail(`--${name} must be a whole number ≥ 1`);
  return value;
}
