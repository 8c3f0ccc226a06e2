// The confirmation of file-system events (wake/sources/event_confirmer.ts): what is
// probed after an event, on each runtime.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { eventConfirmer, SPIN_MS, SPIN_PAUSE_MS } from "../wake/sources/event_confirmer.ts";
import { runtimeKey } from "./_runtime.ts";
import { sleep } from "./_helpers.ts";

/** How the fake probe and the confirmer are set up (`confirmerOn`). */
interface ConfirmerSetup {
  /** When this process last wrote (performance.now()); never by default. */
  lastOwnWriteAt?: () => number;
  /** Whether the probe reads the WAL index header (its looks cost no statement). */
  readsHeader?: boolean;
  /** The timed re-checks' delays; the runtime's own by default. */
  recheckDelaysMs?: readonly number[];
  /** The looks after a confirmed event; fs.watch's on this runtime by default. */
  afterConfirmedMs?: readonly number[];
  /** What the probe says of a commit being written; the probe has no such look by default. */
  commitPending?: () => boolean | undefined;
}

/** A confirmer on a fake probe that reports another connection's commit when `commits` says. */
function confirmerOn(commits: () => boolean, setup: ConfirmerSetup = {}) {
  let probes = 0;
  let changes = 0;
  let changedAt = NaN;
  let nothingPending = 0;
  const confirmer = eventConfirmer(
    {
      path: "/nowhere/app.db",
      probe: {
        other: () => (probes++, commits()),
        any: () => "none",
        version: undefined,
        readsHeader: setup.readsHeader ?? true,
        commitPending: setup.commitPending,
      },
      onNothingPending: () => nothingPending++,
      onChange: () => {
        changes++;
        changedAt = performance.now();
      },
      onDatabaseFileEvent: () => {},
      lastOwnWriteAt: setup.lastOwnWriteAt ?? (() => -Infinity),
    },
    setup.recheckDelaysMs,
    setup.afterConfirmedMs,
  );
  return {
    confirmer,
    probes: () => probes,
    changes: () => changes,
    changedAt: () => changedAt,
    nothingPending: () => nothingPending,
  };
}

/** How many more looks follow an event whose commit was visible at once, within 50 ms. */
async function looksAfterConfirmed(setup: ConfirmerSetup): Promise<number> {
  let pending = true; // one commit, visible at once
  const { confirmer, probes, changes } = confirmerOn(() => {
    const seen = pending;
    pending = false;
    return seen;
  }, setup);
  try {
    confirmer.onEvent("app.db-wal");
    assert.equal(changes(), 1);
    await sleep(50);
    return probes() - 1;
  } finally {
    confirmer.stop();
  }
}

/**
 * The first timed re-check, in the spin tests: far enough that only the event's own look and
 * the spin's looks run during a test's few turns, near enough that a pending one (a libc
 * `usleep` on Deno) does not hold the test process.
 */
const RECHECK_MS = 20;

/** Lets `turns` turns of the event loop run (one setImmediate each), or fewer once `done()`. */
async function turns(count: number, done = () => false): Promise<void> {
  for (let i = 0; i < count && !done(); i++) await new Promise((r) => setImmediate(r));
}

/**
 * Runs the spin's code until the runtime has compiled it: a cold first turn of the event loop
 * takes 50–200 µs, and the first spins of a fresh process look only two or three times.
 */
async function warmUp(): Promise<void> {
  for (let i = 0; i < 30; i++) {
    let looks = 0;
    const { confirmer, changes } = confirmerOn(() => ++looks >= 4);
    confirmer.onEvent("app.db-wal");
    await turns(8, () => changes() > 0);
    confirmer.stop();
  }
}

/**
 * Up to five tries of `attempt`, until one returns true; otherwise the last one's account. A
 * spin lasts 0.3 ms, and on a loaded machine (CI runs test files side by side) a turn of the
 * event loop can take longer than that: one try may see no look past the event's own.
 */
async function oneOfFive(attempt: () => Promise<true | string>): Promise<true | string> {
  let last: true | string = "not tried";
  for (let i = 0; i < 5 && last !== true; i++) last = await attempt();
  return last;
}

/** An event whose commit shows at the 4th look (`setup`'s own write, header…); true if seen. */
function seenAtFourthLook(setup: ConfirmerSetup = {}): Promise<true | string> {
  return oneOfFive(async () => {
    let looks = 0;
    const { confirmer, probes, changes } = confirmerOn(() => ++looks >= 4, {
      ...setup,
      recheckDelaysMs: [RECHECK_MS],
    });
    try {
      confirmer.onEvent("app.db-wal");
      await turns(12, () => changes() > 0);
      return changes() === 1 || `still unconfirmed after ${probes()} looks`;
    } finally {
      confirmer.stop();
    }
  });
}

/** Looks in 12 turns after an event nobody's commit explains; `null` if it took RECHECK_MS. */
async function looksInTwelveTurns(setup: ConfirmerSetup): Promise<number | null> {
  const { confirmer, probes } = confirmerOn(() => false, {
    ...setup,
    recheckDelaysMs: [RECHECK_MS],
  });
  try {
    const started = performance.now();
    confirmer.onEvent("app.db-wal");
    await turns(12);
    return performance.now() - started < RECHECK_MS ? probes() : null;
  } finally {
    confirmer.stop();
  }
}

/** Looks at an event nobody's commit explains, within 25 ms (re-checks at 1 and 2 ms). */
async function looksWhenNothingCommits(setup: ConfirmerSetup) {
  const { confirmer, probes, nothingPending } = confirmerOn(() => false, {
    recheckDelaysMs: [1, 2],
    ...setup,
  });
  try {
    confirmer.onEvent("app.db-wal");
    await sleep(25);
    return { looks: probes(), nothingPending: nothingPending() };
  } finally {
    confirmer.stop();
  }
}

describe("event confirmer, told by the WAL whether a commit is being written", () => {
  it("looks once at an event when no commit is being written", async () => {
    // One commit raises several -wal events; the first shows it, the others found nothing in a
    // spin and five re-checks each.
    const seen = await looksWhenNothingCommits({
      commitPending: () => false,
      afterConfirmedMs: [],
    });
    assert.deepEqual(seen, { looks: 1, nothingPending: 1 });
  });

  it("keeps looking while one is, and stops once it is not", async () => {
    let asked = 0;
    const seen = await looksWhenNothingCommits({
      commitPending: () => ++asked < 3, // written, written, then gone (rolled back, say)
      afterConfirmedMs: [],
    });
    assert.deepEqual(seen, { looks: 3, nothingPending: 1 });
  });

  it("sees a commit being written at its 4th look", async () => {
    await warmUp();
    const seen = await seenAtFourthLook({ commitPending: () => true, afterConfirmedMs: [] });
    assert.equal(seen, true, String(seen));
  });

  it("keeps every look when the probe cannot tell, or fails", async () => {
    for (
      const commitPending of [() => undefined, (): boolean => {
        throw new Error("EIO");
      }]
    ) {
      const seen = await looksWhenNothingCommits({ commitPending, afterConfirmedMs: [] });
      assert.ok(seen.looks >= 3, `${seen.looks} looks: the re-checks at 1 and 2 ms are missing`);
      assert.equal(seen.nothingPending, 0);
    }
  });

  it("keeps every look where the source drops events (Bun's fs.watch)", async () => {
    // A commit begun after the look may raise no event of its own there.
    const seen = await looksWhenNothingCommits({
      commitPending: () => false,
      afterConfirmedMs: [0.5],
    });
    assert.ok(seen.looks >= 3, `${seen.looks} looks: the re-checks at 1 and 2 ms are missing`);
  });
});

describe("event confirmer", () => {
  it("looks at every turn of the event loop while an event's commit is not visible yet", async () => {
    // A commit's first -wal event comes before its WAL index header moves (13 µs at the median,
    // up to 0.2 ms). Here it shows at the 4th look: without the spin, the event's look and the
    // next turn's leave it to the first timed re-check, 20 ms later.
    await warmUp();
    const seen = await seenAtFourthLook();
    assert.equal(seen, true, String(seen));
  });

  it("does not look at every turn after an event taken for this process's own write", async () => {
    await warmUp();
    const looks = await looksInTwelveTurns({ lastOwnWriteAt: () => performance.now() });
    // At the event and at the next turn only (null: the 12 turns outlasted the timed re-check).
    if (looks !== null) assert.equal(looks, 2);
  });

  it("does not look at every turn when each look is a statement (no WAL index header)", async () => {
    await warmUp();
    const looks = await looksInTwelveTurns({ readsHeader: false });
    if (looks !== null) assert.equal(looks, 2);
  });

  it("takes an event for our own write only within 2 ms of that write", async () => {
    // A watcher asleep while this process acked (nobody waited) sees the next event, another
    // process's commit, long after: counting writes since the last event took it for ours.
    await warmUp();
    const wroteAt = performance.now() - 3;
    const seen = await seenAtFourthLook({ lastOwnWriteAt: () => wroteAt });
    assert.equal(seen, true, String(seen));
  });

  it("after a spin that saw nothing, an event within SPIN_PAUSE_MS does not spin", async () => {
    await warmUp();
    const result = await oneOfFive(async () => {
      const { confirmer, probes } = confirmerOn(() => false, { recheckDelaysMs: [RECHECK_MS] });
      try {
        const started = performance.now();
        confirmer.onEvent("app.db-wal");
        // The spin runs past its end (and its last turn sees that) without finding a commit.
        await turns(10_000, () => performance.now() - started > SPIN_MS + 0.1);
        await turns(2);
        const before = probes();
        confirmer.onEvent("app.db-wal");
        await turns(12);
        if (performance.now() - started >= Math.min(SPIN_PAUSE_MS, RECHECK_MS)) return "too slow";
        return probes() - before === 2 || `${probes() - before} looks in 12 turns`;
      } finally {
        confirmer.stop();
      }
    });
    assert.equal(result, true, String(result));
  });

  it("after a confirmed event, looks again only on Bun (whose fs.watch drops close events)", async () => {
    // Bun: looks at 0.5, 1, 1.5 and 2.2 ms, for a commit whose event it dropped (one look at
    // 2.5 ms before). Elsewhere every write raises an event: nothing more to probe.
    assert.equal(await looksAfterConfirmed({}), runtimeKey() === "bun" ? 4 : 0);
  });

  it("after a confirmed event, the inotify source's confirmer looks no more, on any runtime", async () => {
    // What inotify_source.ts passes: inotify reports every write, on Bun too.
    assert.equal(await looksAfterConfirmed({ afterConfirmedMs: [] }), 0);
  });

  it("on Bun, a commit whose event was dropped right after a confirmed one is seen within 1.5 ms", {
    skip: runtimeKey() === "bun" ? undefined : "only Bun's fs.watch drops events",
  }, async () => {
    // A probe reports each commit once: a look after it has seen the second commit sees nothing
    // new (a later look at 0.5 ms counted it again, on a machine slow enough for it to run).
    let visibleAt = Infinity;
    let seenUpTo = -Infinity;
    const { confirmer, changes, changedAt } = confirmerOn(() => {
      if (performance.now() < visibleAt || visibleAt <= seenUpTo) return false;
      seenUpTo = visibleAt;
      return true;
    });
    try {
      visibleAt = performance.now(); // the first commit, visible at once
      confirmer.onEvent("app.db-wal");
      assert.equal(changes(), 1);
      visibleAt = performance.now() + 0.3; // the next one lands 0.3 ms later, unreported
      const started = performance.now();
      while (changes() < 2 && performance.now() - started < 50) await sleep(0);
      assert.equal(changes(), 2);
      // Looked for at 0.5 ms (plus the sleep's overshoot); a single look at 2.5 ms before.
      const late = changedAt() - visibleAt;
      assert.ok(late < 1.5, `seen ${late.toFixed(2)} ms late`);
    } finally {
      confirmer.stop();
    }
  });
});
