/**
 * The stream benchmark's cross-process latency cases: a publisher process and a receiver process
 * of the running runtime (`_stream_child.ts`) on one fresh file.
 *
 * Latency runs from the publisher's commit returning to the receiver's `for await` body. Each
 * child pins its monotonic clock to a `Date.now()` tick edge (`_wake_common.ts`); pings over the
 * pipes from this process check how well the two agree.
 *
 * @module
 */

import { open } from "../mod.ts";
import { runtimeKey } from "../tests/_runtime.ts";
import { Child } from "./_wake_child.ts";
import { sleep, wallClock } from "./_wake_common.ts";
import { pipeOffset } from "./_pipe_clock.ts";
import { percentile } from "./_wake_report.ts";

/** Figures of one live case, in ms. */
export interface Latency {
  kind: "stream" | "notify";
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Commits the receiver never saw. */
  missed: number;
  /** The receiver's wake mode (auto resolves to fs or poll). */
  wakeMode: string;
  /** Receiver clock minus publisher clock by the pipe pings, ± bound. */
  pipeOffsetMs: number;
  pipeBoundMs: number;
}

const CHILD = "bench/_stream_child.ts";
/** auto mode decides fs vs poll within a second of open. */
const AUTO_SETTLE_MS = 1200;
const clock = wallClock();

/**
 * Publishes (or notifies) `count` times at seeded random `gapMinMs`–`gapMaxMs` gaps from one
 * process while another subscribes (or listens), both on this runtime.
 */
export async function liveLatency(
  kind: "stream" | "notify",
  path: string,
  count: number,
  gapMinMs: number,
  gapMaxMs: number,
): Promise<Latency> {
  (await open(path)).close();
  const gaps = [count, 42, gapMinMs, gapMaxMs].map(String);
  const publisher = new Child("publisher", runtimeKey(), CHILD, ["publisher", path, kind, ...gaps]);
  const receiver = new Child("receiver", runtimeKey(), CHILD, ["receiver", path, kind]);
  try {
    await Promise.all([publisher.expect(["ready"], 30_000), receiver.expect(["ready"], 30_000)]);
    const { offsetMs: po, boundMs: pb } = await pipeOffset(publisher, clock);
    const { offsetMs: ro, boundMs: rb } = await pipeOffset(receiver, clock);
    receiver.send("listen");
    await receiver.expect(["listening"], 5000);
    await sleep(AUTO_SETTLE_MS);
    publisher.send("run");
    const committed = (await publisher.expect(["committed"], 60_000)).committed as number[][];
    await sleep(300);
    receiver.send("stop");
    const end = await receiver.expect(["received"], 30_000);
    const got = new Map((end.received as number[][]).map(([id, at]) => [id, at]));
    const lat = committed.map(([id, at]) => (got.get(id) ?? NaN) - at);
    const seen = lat.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
    return {
      kind,
      p50: percentile(seen, 50),
      p90: percentile(seen, 90),
      p99: percentile(seen, 99),
      max: seen.at(-1) ?? NaN,
      missed: lat.length - seen.length,
      wakeMode: String(end.wakeMode),
      pipeOffsetMs: ro - po,
      pipeBoundMs: rb + pb,
    };
  } finally {
    publisher.send("exit");
    await Promise.race([Promise.all([publisher.exited, receiver.exited]), sleep(2000)]);
    publisher.kill();
    receiver.kill();
    await Promise.all([publisher.exited, receiver.exited]);
  }
}
