/**
 * A private `redis-server` for the benchmarks that measure BullMQ beside honker-ts: started on a
 * free localhost port, with persistence off or with an append-only file fsynced every second,
 * and stopped by the benchmark.
 *
 * @module
 */

import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import process from "node:process";

/** What `ioredis` needs to reach the benchmark's Redis. */
export interface RedisConnection {
  host: string;
  port: number;
}

/** How the Redis is run. */
export interface RedisOptions {
  /**
   * A folder for an append-only file fsynced every second (`appendfsync everysec`, Redis's
   * durable setting). Absent: persistence off (`--save "" --appendonly no`), the setting most
   * favourable to BullMQ, where an `add` returns once the job is in memory.
   */
  aofDir?: string;
}

/** A running `redis-server`; `stop()` ends it. */
export interface LocalRedis {
  connection: RedisConnection;
  stop(): Promise<void>;
}

/** Why Redis cannot be started here, or undefined when it can. */
export function redisSkipReason(): string | undefined {
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

function redisArgs(port: number, options: RedisOptions): string[] {
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", ""];
  if (options.aofDir === undefined) return [...args, "--appendonly", "no"];
  return [...args, "--appendonly", "yes", "--appendfsync", "everysec", "--dir", options.aofDir];
}

const running = new Set<ChildProcess>();
let hooked = false;

/** A Redis still running when the process exits is killed with it. */
function killOnExit(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", () => {
    for (const proc of running) proc.kill("SIGKILL");
  });
}

/** Starts `redis-server` on a free port and resolves once it accepts connections. */
export async function startRedis(options: RedisOptions = {}): Promise<LocalRedis> {
  killOnExit();
  const port = await freePort();
  const proc = spawn("redis-server", redisArgs(port, options), {
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(proc);
  const exited = new Promise<void>((resolve) =>
    proc.once("close", () => {
      running.delete(proc);
      resolve();
    })
  );
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
