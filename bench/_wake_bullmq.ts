/**
 * BullMQ on a local Redis, the end-to-end anchor the wake benchmark measures beside honker-ts in
 * the same run: a `redis-server` of its own on a free localhost port, and BullMQ's `Queue.add`
 * and `Worker` on that connection.
 *
 * Redis runs with persistence off (`--save "" --appendonly no`), the setting most favourable to
 * BullMQ: an `add` returns once the job is in memory, while a honker-ts commit is in the WAL file.
 *
 * @module
 */

import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createServer } from "node:net";

/** The BullMQ queue both processes use. */
export const BULLMQ_QUEUE = "wake-bench";

/** What `ioredis` needs to reach the benchmark's Redis. */
export interface RedisConnection {
  host: string;
  port: number;
}

/** Why BullMQ cannot be measured here, or undefined when it can. */
export function bullmqSkipReason(): string | undefined {
  const found = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
  if (found.error || found.status !== 0) {
    return "redis-server is not installed (apt-get install redis-server)";
  }
  return undefined;
}

/** A localhost TCP port nothing listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A running `redis-server`; `stop()` ends it. */
export interface LocalRedis {
  connection: RedisConnection;
  stop(): Promise<void>;
}

/** Starts `redis-server` on a free port and resolves once it accepts connections. */
export async function startRedis(): Promise<LocalRedis> {
  const port = await freePort();
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
  const proc: ChildProcess = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<void>((resolve) => proc.once("close", () => resolve()));
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`redis-server did not start within 10 s:\n${output.slice(-2000)}`));
    }, 10_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout?.on("data", onData);
    proc.stderr?.on("data", onData);
    proc.once("close", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`));
    });
  });
  return {
    connection: { host: "127.0.0.1", port },
    stop: async () => {
      proc.kill("SIGTERM");
      await exited;
    },
  };
}
