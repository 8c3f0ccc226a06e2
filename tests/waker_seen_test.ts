// Waker.seenBy(): whether a wake is for a commit the last look already saw, so that the look
// need not run again. A look is known by the data_version it read and by the stamp (the WAL
// index header's, from the watcher) read before it; a change by one or the other.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Waker } from "../core/wait/waker.ts";

describe("Waker.seenBy()", () => {
  it("a change at the look's data_version or at its stamp was seen; any other was not", () => {
    const waker = new Waker();
    try {
      const since = waker.seq;
      waker.changed(7);
      assert.equal(waker.seenBy(since, 7, -3), true, "at the look's data_version");
      assert.equal(waker.seenBy(since, 6, -3), false, "at another data_version");
      waker.changed(-3);
      assert.equal(waker.seenBy(since, 7, -3), true, "at the look's stamp");
      assert.equal(waker.seenBy(since, 7, -2), false, "at another stamp");
      assert.equal(waker.seenBy(since, 7), false, "a look without a stamp");
      assert.equal(waker.seenBy(since, undefined, undefined), false, "a look that knows nothing");
    } finally {
      waker.close();
    }
  });

  it("a change that came without a version since the look was never seen by it", () => {
    const waker = new Waker();
    try {
      const since = waker.seq;
      waker.changed(-3);
      waker.changed(); // a poll, a local commit: no read can be known to have seen it
      waker.changed(-3);
      assert.equal(waker.seenBy(since, 7, -3), false);
      assert.equal(waker.seenBy(waker.seq, 7, -3), true, "a look after it");
    } finally {
      waker.close();
    }
  });

  it("stamp() reads what the watcher installed, and nothing when that throws", () => {
    const waker = new Waker();
    try {
      assert.equal(waker.stamp(), undefined);
      let state = -1;
      waker.useStamps(() => state);
      assert.equal(waker.stamp(), -1);
      state = -2;
      assert.equal(waker.stamp(), -2);
      waker.useStamps(() => {
        throw new Error("EBADF");
      });
      assert.equal(waker.stamp(), undefined);
    } finally {
      waker.close();
    }
  });
});

describe("Waker.lastLocalWriteAt", () => {
  it("is when this process last committed through the API, quiet writes included", () => {
    const waker = new Waker();
    try {
      assert.equal(waker.lastLocalWriteAt, -Infinity);
      const before = performance.now();
      waker.notifyLocal("quiet");
      const quiet = waker.lastLocalWriteAt;
      assert.ok(quiet >= before && quiet <= performance.now());
      waker.notifyLocal();
      assert.ok(waker.lastLocalWriteAt >= quiet);
    } finally {
      waker.close();
    }
  });
});

describe("Waker.confirmedSince()", () => {
  it("is true while every change since the baseline came with a version", () => {
    const waker = new Waker();
    try {
      const since = waker.seq;
      assert.equal(waker.confirmedSince(since), true); // no change at all
      waker.changed(-3); // a commit the watcher confirmed, at a stamp
      assert.equal(waker.confirmedSince(since), true);
      waker.changed(); // a backstop catch-up: maybe our own writes
      assert.equal(waker.confirmedSince(since), false);
      assert.equal(waker.confirmedSince(waker.seq), true); // a later baseline
    } finally {
      waker.close();
    }
  });
});

describe("Waker.wait({ localOnly })", () => {
  it("ends on this process's commit, not on another connection's, and keeps no watch", async () => {
    const waker = new Waker();
    const watched: boolean[] = [];
    waker.onWatched((on) => watched.push(on));
    try {
      const since = waker.seq;
      const theirs = waker.wait({ localOnly: true, timeoutMs: 50, since });
      waker.changed(7); // another connection's commit, confirmed by the watcher
      waker.changed(); // a backstop poll's
      assert.equal(await theirs, "timeout");
      const ours = waker.wait({ localOnly: true, timeoutMs: 5000, since: waker.seq });
      waker.notifyLocal();
      assert.equal(await ours, "change");
      assert.deepEqual(watched, [], "a localOnly wait keeps the watcher asleep");
      // A commit seen since the baseline it was given still ends it at once, as any wait.
      assert.equal(await waker.wait({ localOnly: true, timeoutMs: 5000, since }), "change");
    } finally {
      waker.close();
    }
  });
});
