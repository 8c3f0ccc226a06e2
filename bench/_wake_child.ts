/**
 * The wake benchmark's child processes: started on a named runtime from node_modules/.bin,
 * spoken to in lines, and always killed and cleaned up, even when the benchmark fails.
 *
 * @module
 */

import { spawn } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";

/** The runtimes the benchmark can run on. */
export type Runtime = "node" | "deno" | "bun";

/** Every Runtime, for checking a `--runtimes` argument. */
export const RUNTIMES: readonly Runtime[] = ["node", "deno", "bun"];

/** The project's root folder. */
export const ROOT: string = fileURLToPath(new URL("..", import.meta.url));

/** The command line that runs `script` (relative to the root) on `runtime`. */
export function commandFor(runtime: Runtime, script: string, args: string[]): [string, string[]] {
  const bin = fileURLToPath(new URL(`../node_modules/.bin/${runtime}`, import.meta.url));
  const flags = runtimeFlags(runtime);
  if (runtime === "deno") return [bin, ["run", "-A", ...flags, script, ...args]];
  if (runtime === "bun") return [bin, [...flags, script, ...args]];
  return [bin, ["--no-warnings", ...flags, script, ...args]];
}

/**
 * Extra runtime flags for every child on `runtime`, from `HONKER_BENCH_FLAGS_<RUNTIME>` (split
 * on spaces): to profile the children of any benchmark, e.g.
 * `HONKER_BENCH_FLAGS_DENO="--cpu-prof --cpu-prof-md --cpu-prof-dir=/tmp/prof"` (Deno and Bun
 * both take these; Node takes `--cpu-prof --cpu-prof-dir=…`). Profiles are written when a child
 * exits by itself, not when it is killed.
 */
function runtimeFlags(runtime: Runtime): string[] {
  const flags = process.env[`HONKER_BENCH_FLAGS_${runtime.toUpperCase()}`];
  return flags ? flags.split(" ").filter((flag) => flag !== "") : [];
}

const live = new Set<ChildProcessWithoutNullStreams>();
const tempDirs = new Set<string>();

/**
 * Stops every child still running and removes every registered temp folder. SIGTERM, not
 * SIGKILL, so that a nested benchmark (`--all`) removes its own temp folders; the writer and
 * waiter also exit by themselves when their stdin closes.
 */
export function cleanUp(): void {
  for (const child of live) {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
  }
  live.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

let hooked = false;
/** Cleans up on exit and on SIGINT/SIGTERM (then exits). */
export function cleanUpOnExit(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", cleanUp);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      cleanUp();
      process.exit(130);
    });
  }
}

/** Registers a temp folder for removal by `cleanUp()`; returns it. */
export function tempDir(dir: string): string {
  tempDirs.add(dir);
  return dir;
}

/** A fresh temp folder, on tmpfs where there is one, registered for `cleanUp()`. */
export function freshTmpDir(prefix: string): string {
  const root = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
  return tempDir(mkdtempSync(join(root, prefix)));
}

/** Removes a registered temp folder now. */
export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** A child process that sends JSON lines and takes command lines. */
export class Child {
  #proc: ChildProcessWithoutNullStreams;
  #messages: Array<Record<string, unknown>> = [];
  #onMessage: (() => void) | undefined;
  #stderr = "";
  #exitCode: number | null | undefined;
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
  /** The label used in errors. */
  readonly name: string;

  /** Starts `script` on `runtime` in the project root. */
  constructor(name: string, runtime: Runtime, script: string, args: string[]) {
    this.name = name;
    const [command, argv] = commandFor(runtime, script, args);
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    this.#proc = spawn(command, argv, { cwd: ROOT, env, stdio: ["pipe", "pipe", "pipe"] });
    live.add(this.#proc);
    let buffered = "";
    this.#proc.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        this.#take(line);
      }
    });
    this.#proc.stderr.setEncoding("utf8").on("data", (chunk: string) => (this.#stderr += chunk));
    this.#proc.stdin.on("error", () => {}); // A child that died is reported by expect().
    this.exited = new Promise((resolve) => {
      this.#proc.on("close", (code) => {
        this.#exitCode = code;
        live.delete(this.#proc);
        this.#onMessage?.();
        resolve();
      });
    });
  }

  #take(line: string): void {
    try {
      this.#messages.push(JSON.parse(line));
    } catch {
      this.#stderr += `${line}\n`; // Not ours: a runtime warning on stdout.
    }
    this.#onMessage?.();
  }

  /** Sends one command line. */
  send(command: string): void {
    this.#proc.stdin.write(`${command}\n`);
  }

  /** The next message that has any of `keys`, waiting up to `timeoutMs`. */
  expect(keys: string[], timeoutMs: number): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#onMessage = undefined;
        reject(
          new Error(`${this.name}: no ${keys.join("/")} within ${timeoutMs} ms${this.#tail()}`),
        );
      }, timeoutMs);
      const check = () => {
        const i = this.#messages.findIndex((m) => keys.some((key) => key in m));
        if (i >= 0) {
          clearTimeout(timer);
          this.#onMessage = undefined;
          resolve(this.#messages.splice(i, 1)[0]);
        } else if (this.#exitCode !== undefined) {
          clearTimeout(timer);
          this.#onMessage = undefined;
          reject(
            new Error(`${this.name} exited (${this.#exitCode}) before ${keys}${this.#tail()}`),
          );
        }
      };
      this.#onMessage = check;
      check();
    });
  }

  #tail(): string {
    const text = this.#stderr.trim();
    return text ? `:\n${text.slice(-2000)}` : "";
  }

  /** Kills the process if it is still running. */
  kill(): void {
    if (this.#exitCode === undefined) this.#proc.kill("SIGKILL");
  }
}
