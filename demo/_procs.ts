/**
 * The demo's child processes: each role script on its runtime, started from the binaries in
 * `node_modules/.bin`, spoken to through the line protocol of `_role.ts`.
 *
 * @module
 */

import { spawn } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** A runtime the demo runs processes on. */
export type Runtime = "node" | "deno" | "bun";
/** What a process does in the demo. */
export type Role = "producer" | "worker" | "subscriber" | "scheduler";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const BIN = fileURLToPath(new URL("../node_modules/.bin/", import.meta.url));
const COMMANDS: Record<Runtime, string[]> = {
  node: [`${BIN}node`, "--no-warnings"],
  deno: [`${BIN}deno`, "run", "-A"],
  bun: [`${BIN}bun`],
};

/** The runtimes whose binary is missing from node_modules/.bin. */
export function missingRuntimes(): Runtime[] {
  return (Object.keys(COMMANDS) as Runtime[]).filter((r) => !existsSync(COMMANDS[r][0]));
}

/** One running role script. */
export class RoleProcess {
  /** What it does. */
  readonly role: Role;
  /** What runs it. */
  readonly runtime: Runtime;
  /** Its name in the file (worker ids, lock owners) and on screen. */
  readonly name: string;
  /** What it said when it was ready (pid, runtime, wake mode, clock alignment). */
  readyInfo: Record<string, unknown> | undefined;
  /** What it said when it stopped (its counts). */
  doneInfo: Record<string, unknown> | undefined;
  /** Everything it wrote to stderr. */
  stderr = "";
  /** Its exit code once it has exited (null when a signal ended it). */
  exitCode: number | null | undefined;
  #child: ChildProcessWithoutNullStreams;
  #exited: Promise<void>;
  #onReady: Array<() => void> = [];

  constructor(role: Role, runtime: Runtime, name: string, dbPath: string, args: string[] = []) {
    this.role = role;
    this.runtime = runtime;
    this.name = name;
    const [bin, ...flags] = COMMANDS[runtime];
    const script = fileURLToPath(new URL(`./${role}.ts`, import.meta.url));
    const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1" };
    delete env.NODE_TEST_CONTEXT; // Set when the demo runs under node --test.
    // Its own process group: Ctrl-C reaches main.ts only, which then stops everyone in order.
    this.#child = spawn(bin, [...flags, script, dbPath, name, ...args], {
      cwd: ROOT,
      env,
      detached: true,
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.#child.stderr.setEncoding("utf8").on("data", (text: string) => (this.stderr += text));
    this.#readLines();
    this.#exited = new Promise((resolve) => {
      this.#child.on("error", (error) => {
        this.stderr += String(error);
        this.exitCode ??= null;
        resolve();
      });
      this.#child.on("close", (code) => {
        this.exitCode = code;
        resolve();
      });
    });
    this.#exited.then(() => this.#onReady.splice(0).forEach((wake) => wake()));
  }

  /** How the process appears on screen: `worker deno`. */
  get label(): string {
    return `${this.role} ${this.runtime}`;
  }

  #readLines(): void {
    let partial = "";
    this.#child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        const match = /^(ready|done) (\{.*\})$/.exec(line);
        if (!match) continue;
        const info = JSON.parse(match[2]) as Record<string, unknown>;
        if (match[1] === "done") this.doneInfo = info;
        else {
          this.readyInfo = info;
          this.#onReady.splice(0).forEach((wake) => wake());
        }
      }
    });
  }

  /** Resolves once the process is working; rejects if it exits or stays silent too long. */
  async ready(timeoutMs: number): Promise<void> {
    if (this.readyInfo === undefined && this.exitCode === undefined) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
        this.#onReady.push(resolve);
      });
      clearTimeout(timer);
    }
    if (this.readyInfo === undefined) {
      const why = this.exitCode === undefined
        ? `not ready after ${timeoutMs} ms`
        : `exited with code ${this.exitCode}`;
      throw new Error(`Cannot start ${this.label}: ${why}\n${this.stderr.trim()}`);
    }
  }

  /** Asks the process to stop: closes its stdin. */
  stop(): void {
    if (!this.#child.stdin.writableEnded) this.#child.stdin.end();
  }

  /** Resolves with whether the process exited within `timeoutMs`. */
  async exited(timeoutMs: number): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([this.#exited, late]);
    clearTimeout(timer);
    return this.exitCode !== undefined;
  }

  /** Ends the process at once (it did not stop when asked). */
  kill(): void {
    if (this.exitCode === undefined) this.#child.kill("SIGKILL");
  }
}
