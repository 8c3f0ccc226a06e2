/**
 * The torture driver's processes: starts role scripts on Node, Deno or Bun (the binaries in
 * `node_modules/.bin`), SIGKILLs and restarts them, stops them through stdin, and notes every
 * exit nobody asked for.
 *
 * @module
 */

import { spawn } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { RUNTIME_COMMANDS } from "../_spawn.ts";
import { SELF_KILL } from "./_shared.ts";

/** The runtimes every role runs on. */
export type Runtime = "node" | "deno" | "bun";
/** What a process does. */
export type Role =
  | "producer"
  | "worker"
  | "batch_worker"
  | "subscriber"
  | "scheduler"
  | "locker";

/** The command line of each runtime. */
export const RUNTIMES: Readonly<Record<Runtime, readonly string[]>> = RUNTIME_COMMANDS;

/** One running (or finished) role process. */
export interface Member {
  name: string;
  role: Role;
  runtime: Runtime;
  config: unknown;
  child: ChildProcessWithoutNullStreams;
  pid: number;
  /** Whether the driver killed or stopped it (any other exit is a violation). */
  expectedExit: boolean;
  /** Whether it printed `ready`. */
  isReady: boolean;
  ready: Promise<void>;
  exited: Promise<void>;
  /** The JSON line it printed after closing its database. */
  result: Record<string, unknown> | undefined;
  /** The last other line it printed (a locker's `holding` or `released`). */
  status: string;
  stderr: string;
}

const STDERR_KEEP = 4_000;

/** Starts, kills, restarts and stops the role processes of one run. */
export class Fleet {
  readonly members: Member[] = [];
  /** Every SIGKILL the driver sent, and every one a member sent itself (`self-kill`). */
  readonly kills: Array<{ atS: number; name: string; role: Role; pid: number; status: string }> =
    [];
  /** Exits and failures nobody asked for. */
  readonly violations: string[] = [];
  /** Whether a member that SIGKILLed itself on purpose is started again (off for the last stop). */
  restartSelfKilled = true;
  #path: string;
  #startedAt = Date.now();

  constructor(path: string) {
    this.#path = path;
  }

  /** The members currently alive, newest incarnation of each name. */
  get live(): Member[] {
    return this.members.filter((m) => m.child.exitCode === null && m.child.signalCode === null);
  }

  /** Starts `role` on `runtime`; `go` starts it working as soon as it is ready. */
  start(role: Role, runtime: Runtime, name: string, config: unknown, go = false): Member {
    const [bin, ...args] = RUNTIMES[runtime];
    const script = fileURLToPath(new URL(`./${role}.ts`, import.meta.url));
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const child = spawn(bin, [...args, script, this.#path, name, JSON.stringify(config)], { env });
    const member = { name, role, runtime, config, child, pid: child.pid ?? -1 } as Member;
    member.expectedExit = false;
    member.isReady = false;
    member.stderr = "";
    member.status = "";
    let readyResolve = () => {};
    member.ready = new Promise((resolve) => (readyResolve = resolve));
    let partial = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        if (line === "ready") {
          member.isReady = true;
          readyResolve();
        } else if (line.startsWith("{")) member.result = JSON.parse(line);
        else member.status = line;
      }
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      member.stderr = (member.stderr + chunk).slice(-STDERR_KEEP);
    });
    member.exited = new Promise((resolve) => {
      // "close", not "exit": a last line (such as `self-kill`) is read before the exit is judged.
      child.on("close", (code, signal) => {
        if (!member.expectedExit && signal === "SIGKILL" && member.status === SELF_KILL) {
          member.expectedExit = true;
          this.#noteKill(member);
          if (this.restartSelfKilled) this.start(role, runtime, name, config, true);
        }
        if (!member.expectedExit) {
          this.violations.push(
            `${name} (pid ${member.pid}) exited unexpectedly (code ${code}, signal ${signal}): ` +
              member.stderr.trim().slice(-1_000),
          );
        }
        readyResolve();
        resolve();
      });
    });
    child.stdin.on("error", () => {}); // A dead child's stdin: its exit is reported instead.
    if (go) child.stdin.write("go\n");
    this.members.push(member);
    return member;
  }

  /** Sends every live member its go-ahead; kill times count from here. */
  goAll(): void {
    this.#startedAt = Date.now();
    for (const member of this.live) member.child.stdin.write("go\n");
  }

  /** SIGKILLs `member` and starts a new incarnation of it on the same runtime. */
  async killAndRestart(member: Member): Promise<Member> {
    member.expectedExit = true;
    this.#noteKill(member);
    member.child.kill("SIGKILL");
    await member.exited;
    return this.start(member.role, member.runtime, member.name, member.config, true);
  }

  #noteKill(member: Member): void {
    this.kills.push({
      atS: (Date.now() - this.#startedAt) / 1000,
      name: member.name,
      role: member.role,
      pid: member.pid,
      status: member.status,
    });
  }

  /**
   * Stops members through stdin and waits for them to print their result and exit. One that
   * does not exit within `timeoutMs` is SIGKILLed and reported.
   */
  async stop(members: Member[], timeoutMs: number): Promise<void> {
    for (const member of members) {
      member.expectedExit = true;
      member.child.stdin.end();
    }
    await Promise.all(members.map(async (member) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<boolean>((
        resolve,
      ) => (timer = setTimeout(resolve, timeoutMs, true)));
      const tooLate = await Promise.race([member.exited.then(() => false), late]);
      clearTimeout(timer);
      if (tooLate) {
        this.violations.push(
          `${member.name} (pid ${member.pid}) did not exit within ${timeoutMs} ms of being ` +
            `stopped${member.result ? " (after printing its result)" : ""}`,
        );
        member.child.kill("SIGKILL");
        await member.exited;
      } else if (member.child.exitCode !== 0) {
        this.violations.push(
          `${member.name} (pid ${member.pid}) stopped with exit code ${member.child.exitCode}: ` +
            member.stderr.trim().slice(-1_000),
        );
      }
    }));
  }

  /** Last resort on a crashing driver: no orphan may keep writing to the file. */
  killAll(): void {
    for (const member of this.live) {
      member.expectedExit = true;
      member.child.kill("SIGKILL");
    }
  }
}
