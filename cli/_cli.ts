/**
 * What every command shares: the command shape, the two error classes that choose the exit
 * status, argument parsing on `node:util` `parseArgs`, and output.
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";

/** Exit status of a run that went well. */
export const EXIT_OK = 0;
/** Exit status of a failure: the file is missing, is not a honker database, an id is unknown. */
export const EXIT_FAILURE = 1;
/** Exit status of a usage error: unknown command or flag, missing or malformed argument. */
export const EXIT_USAGE = 2;

/** A failure to report on stderr; `exitCode` picks the exit status. */
export class CliError extends Error {
  /** The exit status this error ends the run with. */
  readonly exitCode: number = EXIT_FAILURE;
}

/** A command line that does not make sense; exits with status 2. */
export class UsageError extends CliError {
  override readonly exitCode: number = EXIT_USAGE;
  /** The command whose usage line to print with the message, if any. */
  readonly command: string | undefined;

  constructor(message: string, command?: string) {
    super(message);
    this.command = command;
  }
}

/** A flag of a command, in `parseArgs` terms plus the line `--help` shows for it. */
export interface Flag {
  type: "string" | "boolean";
  short?: string;
  /** The help line, e.g. `"--limit N   at most N rows (default 50)"`. */
  help: string;
}

/** One command of the CLI. */
export interface Command {
  name: string;
  /** One line for the global help. */
  summary: string;
  /** The positional arguments, as shown after the command name: `FILE QUEUE`. */
  args: string;
  /** How many positionals it takes, at least and at most (Infinity for `ID…`). */
  arity: [min: number, max: number];
  /** A paragraph for `honker-ts <command> --help`. */
  description: string;
  flags: Record<string, Flag>;
  /** Runs the command and resolves with its exit status. */
  run(positionals: string[], values: Values): Promise<number>;
}

/** Parsed flag values. */
export type Values = Record<string, string | boolean | undefined>;

/** Flags every command takes. */
export const HELP_FLAG: Record<string, Flag> = {
  help: { type: "boolean", short: "h", help: "-h, --help      show this help" },
};

/** The `--json` flag of the read commands. */
export const JSON_FLAG: Record<string, Flag> = {
  json: { type: "boolean", help: "--json          print JSON instead of a table" },
};

/** Parses a command's arguments, or throws UsageError naming what is wrong. */
export function parseCommand(
  command: Command,
  argv: string[],
): { positionals: string[]; values: Values } {
  const options = Object.fromEntries(
    Object.entries({ ...command.flags, ...HELP_FLAG }).map(([name, flag]) => [
      name,
      flag.short === undefined ? { type: flag.type } : { type: flag.type, short: flag.short },
    ]),
  );
  let parsed: { positionals: string[]; values: Values };
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true }) as {
      positionals: string[];
      values: Values;
    };
  } catch (error) {
    const { code, message } = error as Error & { code?: string };
    // node:util's message goes on about `--`; the option's name is what matters.
    const unknown = code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" ? /'([^']+)'/.exec(message) : null;
    throw new UsageError(
      unknown ? `Unknown option ${JSON.stringify(unknown[1])}` : message,
      command.name,
    );
  }
  if (parsed.values.help) return parsed;
  const [min, max] = command.arity;
  const count = parsed.positionals.length;
  if (count < min) {
    const missing = command.args.split(" ").slice(count).join(" ");
    throw new UsageError(`Missing argument: ${missing}`, command.name);
  }
  if (count > max) {
    throw new UsageError(
      `Unexpected argument ${JSON.stringify(parsed.positionals[max])}`,
      command.name,
    );
  }
  return parsed;
}

/** The one-line usage of a command, flags shown as their help line names them. */
export function usageLine(command: Command): string {
  const flags = Object.values(command.flags).map((flag) => `[${flag.help.split(/\s{2,}/)[0]}]`);
  return [`honker-ts ${command.name} ${command.args}`, ...flags].join(" ");
}

/** Fills text to `width` columns; a line that starts with two spaces stays as it is. */
export function wrap(text: string, width = 78): string {
  const out: string[] = [];
  let line = "";
  const flush = () => {
    if (line !== "") out.push(line);
    line = "";
  };
  for (const source of text.split("\n")) {
    if (source.startsWith("  ")) {
      flush();
      out.push(source);
      continue;
    }
    for (const word of source.split(" ").filter((w) => w !== "")) {
      if (line !== "" && line.length + 1 + word.length > width) flush();
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  flush();
  return out.join("\n");
}

/** The full `--help` text of a command. */
export function commandHelp(command: Command): string {
  const flags = Object.values({ ...command.flags, ...HELP_FLAG }).map((flag) => `  ${flag.help}`);
  return `Usage: ${usageLine(command)}\n\n${wrap(command.description)}\n\n` +
    `Options:\n${flags.join("\n")}\n`;
}

/** Reads a positive integer argument (`--limit`, an id), or throws UsageError. */
export function positiveInt(text: string, what: string, command: string): number {
  const value = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new UsageError(
      `${what} must be a positive integer, got ${JSON.stringify(text)}`,
      command,
    );
  }
  return value;
}

/** Reads a non-negative integer argument (an offset), or throws UsageError. */
export function offsetArg(text: string, what: string, command: string): number {
  return text === "0" ? 0 : positiveInt(text, what, command);
}

/** Writes text to stdout. */
export function print(text: string): void {
  process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
}

/** Writes stable, indented JSON to stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Writes one compact JSON value as a line (NDJSON, for the follow commands). */
export function printJsonLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Writes a diagnostic line to stderr. */
export function note(command: string, text: string): void {
  process.stderr.write(`honker-ts ${command}: ${text}\n`);
}

/** An AbortSignal that SIGINT or SIGTERM aborts; a second signal exits at once. */
export interface StopSignal {
  signal: AbortSignal;
  /** Removes the signal handlers. */
  dispose(): void;
}

/** Aborts on the first SIGINT or SIGTERM, so a follow command can close the file and exit 0. */
export function stopOnSignals(): StopSignal {
  const controller = new AbortController();
  const stop = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    },
  };
}
