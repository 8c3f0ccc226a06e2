/** Runs a TypeScript script as a child process of the runtime running the tests. */

import { spawn } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import process from "node:process";
import { runtimeKey } from "./_runtime.ts";

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

/** Starts `script` under this runtime with piped stdio. */
export function spawnScript(
  script: string,
  args: readonly string[] = [],
): ChildProcessWithoutNullStreams {
  const [command, argv] = childArgv(script, args);
  const env = { ...process.env };
  // node --test marks its children; the script is a plain program, not a test file.
  delete env.NODE_TEST_CONTEXT;
  return spawn(command, argv, { env, stdio: ["pipe", "pipe", "pipe"] });
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

/** Runs `script` under this runtime to completion. */
export function runScript(script: string, args: readonly string[] = []): Promise<ChildResult> {
  const child = spawnScript(script, args);
  child.stdin.end();
  return collect(child);
}
