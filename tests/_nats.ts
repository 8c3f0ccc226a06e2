/**
 * A real 3-node nats-server JetStream cluster for the NATS bridge tests and bench: three
 * `nats-server -c nN.conf` processes on free loopback ports, each with its own store dir, routed
 * to each other. `startCluster()` waits until JetStream can place a stream with three replicas;
 * `kill(i)` SIGKILLs one node by PID and `restart(i)` starts it again on the same ports and store.
 * A machine without `nats-server` gets a skip reason from `natsSkipReason()`.
 */

import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";

const SEARCH = [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/usr/local/sbin"];

/** The nats-server binary, or undefined when none is installed. */
export function natsServerBinary(): string | undefined {
  return SEARCH.map((dir) => join(dir, "nats-server")).find((path) => existsSync(path));
}

/** Why the NATS tests cannot run here, or undefined when they can. */
export function natsSkipReason(): string | undefined {
  return natsServerBinary() === undefined
    ? "nats-server is not installed (apt-get install nats-server; .ci/run installs it)"
    : undefined;
}

/** A free TCP port on 127.0.0.1 (free when asked; the servers bind it moments later). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * `count` different free ports: `freePort()` closes its listener, so two calls can return the
 * same port, and a node given a port another node took never joins the cluster.
 */
async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Node {
  port: number;
  clusterPort: number;
  conf: string;
  process: ChildProcess | undefined;
}

/** A running cluster of three nats-server processes. */
export class NatsCluster {
  readonly #dir: string;
  readonly #nodes: Node[];

  constructor(dir: string, nodes: Node[]) {
    this.#dir = dir;
    this.#nodes = nodes;
  }

  /** Every node's client URL, `nats://127.0.0.1:<port>`, in node order. */
  get servers(): string[] {
    return this.#nodes.map((node) => `nats://127.0.0.1:${node.port}`);
  }

  /** The client URL of node `i`. */
  server(i: number): string {
    return this.servers[i];
  }

  /** The node index serving `url`, or -1. */
  indexOf(url: string): number {
    return this.#nodes.findIndex((node) => url.endsWith(`:${node.port}`));
  }

  /** Starts node `i` (again), on its ports and store dir. */
  start(i: number): void {
    const node = this.#nodes[i];
    const child = spawn(natsServerBinary()!, ["-c", node.conf], { stdio: "ignore" });
    child.on("error", () => {});
    node.process = child;
  }

  /** SIGKILLs node `i` by its PID and waits until it is gone. */
  async kill(i: number): Promise<void> {
    const child = this.#nodes[i].process;
    this.#nodes[i].process = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    process.kill(child.pid!, "SIGKILL");
    await gone;
  }

  /** Starts a killed node `i` again and waits until it accepts clients. */
  async restart(i: number): Promise<void> {
    this.start(i);
    await waitForClient(this.server(i), 20_000);
  }

  /** A client connection to the given nodes (all by default), reconnecting forever. */
  connect(servers: string[] = this.servers): Promise<NatsConnection> {
    return connect({ servers, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  }

  /**
   * The index of the node leading stream `name`'s raft group, or -1 when it has none; asks again
   * (for up to 20 s) while the stream does not answer, as during an election.
   */
  async leaderOf(name: string): Promise<number> {
    const nc = await this.connect();
    try {
      const info = await retrying(async () => {
        const jsm = await jetstreamManager(nc, { timeout: 2_000 });
        return await jsm.streams.info(name);
      }, 20_000);
      const leader = info.cluster?.leader;
      return leader === undefined ? -1 : Number(/^n(\d)$/.exec(leader)?.[1] ?? -1);
    } finally {
      await nc.close();
    }
  }

  /** Starts again every node killed and not restarted (a test that failed midway). */
  async restartKilled(): Promise<void> {
    for (let i = 0; i < this.#nodes.length; i++) {
      if (this.#nodes[i].process === undefined) await this.restart(i);
    }
  }

  /** SIGKILLs every node and removes the store dirs. */
  async stop(): Promise<void> {
    for (let i = 0; i < this.#nodes.length; i++) await this.kill(i);
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** Runs `attempt` until it resolves, for up to `withinMs`; then throws its last error. */
export async function retrying<T>(attempt: () => Promise<T>, withinMs: number): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(250);
    }
  }
}

async function waitForClient(server: string, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      const nc = await connect({ servers: [server], timeout: 1000, reconnect: false });
      await nc.close();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(100);
    }
  }
}

/**
 * Waits until JetStream has a meta leader and can place a stream of three replicas: creates and
 * deletes a probe stream until that succeeds.
 */
async function waitForJetStream(cluster: NatsCluster, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  const nc = await cluster.connect();
  try {
    for (;;) {
      try {
        const jsm = await jetstreamManager(nc, { timeout: 2000 });
        await jsm.streams.add({ name: "PROBE", subjects: ["probe.>"], num_replicas: 3 });
        await jsm.streams.delete("PROBE");
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(250);
      }
    }
  } finally {
    await nc.close();
  }
}

function configText(i: number, node: Node, nodes: Node[], store: string): string {
  const routes = nodes.map((n) => `nats-route://127.0.0.1:${n.clusterPort}`).join(", ");
  return [
    `server_name: n${i}`,
    `listen: 127.0.0.1:${node.port}`,
    `jetstream { store_dir: "${store}" }`,
    `cluster { name: honker, listen: 127.0.0.1:${node.clusterPort}, routes: [${routes}] }`,
    "",
  ].join("\n");
}

/** Starts a 3-node JetStream cluster in a temporary folder and waits until it is ready. */
export async function startCluster(): Promise<NatsCluster> {
  const dir = mkdtempSync(join(tmpdir(), "honker-ts-nats-"));
  const nodes: Node[] = [];
  const ports = await distinctFreePorts(6);
  for (let i = 0; i < 3; i++) {
    nodes.push({ port: ports[2 * i], clusterPort: ports[2 * i + 1], conf: "", process: undefined });
  }
  nodes.forEach((node, i) => {
    const store = join(dir, `n${i}`);
    mkdirSync(store);
    node.conf = join(dir, `n${i}.conf`);
    writeFileSync(node.conf, configText(i, node, nodes, store));
  });
  const cluster = new NatsCluster(dir, nodes);
  try {
    for (let i = 0; i < 3; i++) cluster.start(i);
    for (let i = 0; i < 3; i++) await waitForClient(cluster.server(i), 20_000);
    // A loaded machine (CI runs test files side by side) has taken over 30 s to place one.
    await waitForJetStream(cluster, 60_000);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

/** One stored message as `readBack()` returns it. */
export interface StoredEvent {
  seq: number;
  offset: number;
  source: string;
  payload: unknown;
}

/**
 * Every message of `subject` in stream `name`, read through an ordered consumer from the node
 * the client reached (the stream leader answers it).
 */
export async function readBack(
  nc: NatsConnection,
  name: string,
  subject: string,
): Promise<StoredEvent[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(name, { subjects_filter: subject });
  const count = info.state.subjects?.[subject] ?? 0;
  const out: StoredEvent[] = [];
  if (count === 0) return out;
  const consumer = await jsm.jetstream().consumers.get(name, { filter_subjects: subject });
  const decoder = new TextDecoder();
  while (out.length < count) {
    const before = out.length;
    const messages = await consumer.fetch({ max_messages: count - out.length, expires: 5_000 });
    for await (const m of messages) {
      out.push({
        seq: m.seq,
        offset: Number(m.headers?.get("Honker-Offset")),
        source: m.headers?.get("Honker-Source") ?? "",
        payload: JSON.parse(decoder.decode(m.data)),
      });
      if (out.length >= count) break;
    }
    if (out.length === before) throw new Error(`read ${before} of ${count} messages of ${subject}`);
  }
  return out;
}

/**
 * Waits until the stream's current leader counts at least `count` messages on `subject`, or
 * `withinMs` passes (then returns, and the caller's read shows what is missing). A leader just
 * elected may still be applying entries it holds: its count catches up within a moment.
 */
export async function storedAtLeast(
  nc: NatsConnection,
  name: string,
  subject: string,
  count: number,
  withinMs: number,
): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    try {
      const info = await jsm.streams.info(name, { subjects_filter: subject });
      if ((info.state.subjects?.[subject] ?? 0) >= count) return;
    } catch {
      // No leader at this moment: ask again.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Creates (or keeps) a stream of three replicas capturing `subjects`, and waits (up to 30 s)
 * until it has a leader and both other replicas are current: right after a test that killed and
 * restarted nodes, a new stream can be placed on a node still catching up.
 */
export async function addStream(
  nc: NatsConnection,
  name: string,
  subjects: string[],
  duplicateWindowMs = 120_000,
): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({
    name,
    subjects,
    num_replicas: 3,
    duplicate_window: duplicateWindowMs * 1_000_000,
  });
  await streamHealthy(nc, name);
}

/**
 * Waits (up to 30 s) until stream `name` has a leader and both other replicas are current: a
 * node killed and restarted catches up before the next fault, which could otherwise leave the
 * stream without a quorum of current replicas.
 */
export async function streamHealthy(nc: NatsConnection, name: string): Promise<void> {
  // retrying() rethrows the last attempt's error: the replicas' state, or why info() failed.
  // The manager is made in each attempt: making it is a request too (account info), which timed
  // out now and then while the cluster was still electing after a node's restart.
  await retrying(async () => {
    const jsm = await jetstreamManager(nc);
    const { cluster } = await jsm.streams.info(name);
    const replicas = cluster?.replicas ?? [];
    if (cluster?.leader && replicas.length === 2 && replicas.every((r) => r.current)) return;
    const states = replicas.map((r) => `${r.name} ${r.current ? "current" : "behind"}`);
    throw new Error(
      `stream ${name} is not healthy within 30 s (leader ${cluster?.leader ?? "none"}, ` +
        `replicas ${states.join(", ") || "none"})`,
    );
  }, 30_000);
}
