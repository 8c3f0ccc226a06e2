/** Runs a TypeScript script as a child process of the runtime running the tests. */

import { spawn } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import process from "node:process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runtimeKey } from "./_runtime.ts";

const BIN = fileURLToPath(new URL("../node_modules/.bin/", import.meta.url));

/**
 * The command line of each runtime, for tests that start processes of all three (the real
 * binaries from node_modules/.bin, so a SIGKILL hits the runtime itself).
 */
export const RUNTIME_COMMANDS: Readonly<Record<"node" | "deno" | "bun", readonly string[]>> = {
  node: [`${BIN}node`, "--no-warnings"],
  deno: [`${BIN}deno`, "run", "-A"],
  bun: [`${BIN}bun`],
};

/** Why a test that starts all three runtimes cannot run here, or undefined when it can. */
export function runtimeBinaryMissing(): string | undefined {
  return Object.values(RUNTIME_COMMANDS).some(([bin]) => !existsSync(bin))
    ? "a runtime binary is missing from node_modules/.bin (run npm ci)"
    : undefined;
}

/** A child process, as it ended. */
export interface ChildResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** The command line that runs `script` with the runtime running this file. */
export function childArgv(script: string, args: readonly string[] = []): [string, string[]] {
  switch (runtimeKey()) {
    case "deno":
      return [process.execPath, ["run", "-A", script, ...args]];
    case "bun":
      return [process.execPath, [script, ...args]];
    default:
      return [process.execPath, ["--no-warnings", script, ...args]];
  }
}

/**
 * Starts `script` under this runtime with piped stdio. `env` adds to (or overrides) this
 * process's environment, e.g. `{ TZ: "Europe/Berlin" }`.
 */
export function spawnScript(
  script: string,
  args: readonly string[] = [],
  env: Readonly<Record<string, string>> = {},
): ChildProcessWithoutNullStreams {
  const [command, argv] = childArgv(script, args);
  const childEnv: Record<string, string | undefined> = { ...process.env, ...env };
  // node --test marks its children; the script is a plain program, not a test file.
  delete childEnv.NODE_TEST_CONTEXT;
  return spawn(command, argv, { env: childEnv, stdio: ["pipe", "pipe", "pipe"] });
}

/** Collects a started child's output until it exits. */
export function collect(child: ChildProcessWithoutNullStreams): Promise<ChildResult> {
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Runs `script` under this runtime to completion; `env` as for `spawnScript()`. */
export function runScript(
  script: string,
  args: readonly string[] = [],
  env: Readonly<Record<string, string>> = {},
): Promise<ChildResult> {
  const child = spawnScript(script, args, env);
  child.stdin.end();
  return collect(child);
}

/** Reads a child's stdout line by line, letting a test wait for a line it expects. */
export class LineReader {
  readonly lines: string[] = [];
  #waiters: Array<() => void> = [];
  #ended = false;

  constructor(child: ChildProcessWithoutNullStreams) {
    let partial = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      const parts = (partial + chunk).split("\n");
      partial = parts.pop() ?? "";
      this.lines.push(...parts);
      for (const wake of this.#waiters.splice(0)) wake();
    });
    child.stdout.on("end", () => {
      this.#ended = true;
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  /** Resolves with the first line matching `match`, or rejects after `timeoutMs`. */
  async waitFor(match: RegExp, timeoutMs: number): Promise<string> {
    return (await this.waitForCount(match, 1, timeoutMs))[0];
  }

  /** Resolves once `count` lines match `match`, or rejects after `timeoutMs`. */
  async waitForCount(match: RegExp, count: number, timeoutMs: number): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.filter((line) => match.test(line));
      if (found.length >= count) return found;
      const left = deadline - Date.now();
      if (left <= 0 || this.#ended) {
        throw new Error(
          `Only ${found.length} of ${count} lines matching ${match} within ${timeoutMs} ms`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }
}

/** Resolves when the child exits (or at once if it already has). */
export function exited(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

/**
 * Resolves with the child's exit code once it exits, killing it with SIGKILL if it is still
 * running `ms` from now (then the code is null and `child.signalCode` is "SIGKILL"): how a test
 * checks that nothing keeps a process alive.
 */
export async function exitedWithin(
  child: ChildProcessWithoutNullStreams,
  ms: number,
): Promise<number | null> {
  const timer = setTimeout(() => child.kill("SIGKILL"), ms);
  try {
    return await exited(child);
  } finally {
    clearTimeout(timer);
  }
}
