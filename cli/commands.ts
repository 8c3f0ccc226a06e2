/**
 * The command table and the reading of a command line into what to do: print help or the
 * version, or run a command with its parsed arguments. No I/O beyond reading package.json, so
 * that tests can check every usage error in-process.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { commandHelp, parseCommand, UsageError } from "./_cli.ts";
import type { Command, Values } from "./_cli.ts";
import { cancel, requeue } from "./change.ts";
import { listen, tail } from "./follow.ts";
import { events } from "./events.ts";
import { dashboardCommand } from "./dashboard.ts";
import { dead, jobs } from "./jobs.ts";
import { pause, resume } from "./queue_controls.ts";
import { schedulesCommand, stats } from "./stats.ts";
import { watch } from "./watch.ts";

/** The commands, grouped as the global help lists them. */
export const COMMAND_GROUPS: ReadonlyArray<[title: string, commands: Command[]]> = [
  ["Read (--json for machine-readable output)", [stats, jobs, dead, schedulesCommand]],
  ["Follow (until Ctrl-C or SIGTERM)", [tail, listen, watch]],
  ["Read or follow", [events]],
  ["Change", [requeue, cancel, pause, resume]],
  ["Serve (until Ctrl-C or SIGTERM)", [dashboardCommand]],
];

/** Every command by name. */
export const COMMANDS: ReadonlyMap<string, Command> = new Map(
  COMMAND_GROUPS.flatMap(([, commands]) => commands.map((command) => [command.name, command])),
);

/** What a command line asks for. */
export type Invocation =
  | { kind: "print"; text: string }
  | { kind: "run"; command: Command; positionals: string[]; values: Values };

/** The version in honker-ts's package.json (one level up from cli/, two from a build's dist/cli/). */
export function version(): string {
  for (const up of ["../package.json", "../../package.json"]) {
    try {
      const text = readFileSync(new URL(up, import.meta.url), "utf8");
      const pkg = JSON.parse(text) as { name?: unknown; version?: unknown };
      if (pkg.name === "honker-ts") return String(pkg.version);
    } catch {
      // Not there (or not JSON): look one level further up.
    }
  }
  return "unknown";
}

/** The text of `honker-ts --help`. */
export function globalHelp(): string {
  const groups = COMMAND_GROUPS.map(([title, commands]) =>
    `${title}:\n` +
    commands.map((c) => `  ${`${c.name} ${c.args}`.padEnd(26)}${c.summary}`).join("\n")
  );
  return `honker-ts ${version()}: inspect and operate a honker database file\n\n` +
    "Usage: honker-ts <command> FILE [arguments] [options]\n\n" +
    `${groups.join("\n\n")}\n\n` +
    "Options:\n" +
    "  -h, --help                show help (also: honker-ts <command> --help)\n" +
    "  -V, --version             print the version\n\n" +
    "Read commands open the file read-only and never change it. Exit status: 0 ok,\n" +
    "1 failure (missing file, not a honker database, unknown id), 2 usage error.\n";
}

/** The command named `name`, or a UsageError. */
export function commandOf(name: string | undefined): Command {
  const command = name === undefined ? undefined : COMMANDS.get(name);
  if (!command) throw new UsageError(`Unknown command ${JSON.stringify(name)}`);
  return command;
}

/**
 * Reads a command line (without the runtime and script).
 *
 * @throws {UsageError} For a missing or unknown command, an unknown flag, a missing argument.
 */
export function resolve(argv: readonly string[]): Invocation {
  const [first, ...rest] = argv;
  if (first === undefined) throw new UsageError("Missing command");
  if (first === "-h" || first === "--help") return { kind: "print", text: globalHelp() };
  if (first === "-V" || first === "--version") return { kind: "print", text: `${version()}\n` };
  if (first === "help") {
    const text = rest.length === 0 ? globalHelp() : commandHelp(commandOf(rest[0]));
    return { kind: "print", text };
  }
  if (first.startsWith("-")) throw new UsageError(`Unknown option ${JSON.stringify(first)}`);
  const command = commandOf(first);
  const { positionals, values } = parseCommand(command, rest);
  if (values.help) return { kind: "print", text: commandHelp(command) };
  return { kind: "run", command, positionals, values };
}
