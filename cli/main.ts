#!/usr/bin/env node
/**
 * The `honker-ts` command: inspect a honker database file (queues, dead letters, streams,
 * schedules), follow it live, and requeue or cancel jobs. Runs with `node cli/main.ts`,
 * `deno run -A cli/main.ts`, `bun cli/main.ts`, or `npm exec honker-ts`.
 *
 * Exit status: 0 ok, 1 failure (missing file, not a honker database, unknown id), 2 usage error.
 *
 * @module
 */

import process from "node:process";
import { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError, usageLine } from "./_cli.ts";
import { COMMANDS, resolve } from "./commands.ts";

async function main(argv: readonly string[]): Promise<number> {
  const invocation = resolve(argv);
  if (invocation.kind === "print") {
    process.stdout.write(invocation.text);
    return EXIT_OK;
  }
  return await invocation.command.run(invocation.positionals, invocation.values);
}

/** Writes the error to stderr (with the usage line for a usage error); returns the exit status. */
function report(error: unknown, name: string | undefined): number {
  const command = name === undefined ? undefined : COMMANDS.get(name);
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`honker-ts${command ? ` ${command.name}` : ""}: ${message}\n`);
  if (error instanceof UsageError) {
    const usage = error.command === undefined || !command
      ? "honker-ts <command> FILE [arguments] [options]"
      : usageLine(command);
    const more = command ? `${command.name} --help` : "--help";
    process.stderr.write(`Usage: ${usage}\nRun "honker-ts ${more}" for more.\n`);
    return EXIT_USAGE;
  }
  if (!(error instanceof CliError) && process.env.HONKER_TS_DEBUG) console.error(error);
  return error instanceof CliError ? error.exitCode : EXIT_FAILURE;
}

/** Node prints an ExperimentalWarning when node:sqlite loads; on a CLI's stderr it is noise. */
function quietSqliteWarning(): void {
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === "string" ? warning : warning?.message;
    if (String(text).startsWith("SQLite is an experimental feature")) return;
    return (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
}

quietSqliteWarning();
// `honker-ts … | head` closes stdout early; that is not an error.
process.stdout.on("error", (error: Error & { code?: string }) => {
  if (error.code === "EPIPE") process.exit(EXIT_OK);
  throw error;
});
const argv = process.argv.slice(2);
try {
  process.exitCode = await main(argv);
} catch (error) {
  process.exitCode = report(error, argv[0]);
}
