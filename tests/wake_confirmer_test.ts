// The confirmation of file-system events (wake/sources/fs_source.ts eventConfirmer): what is
// probed after an event, on each runtime.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { eventConfirmer } from "../wake/sources/fs_source.ts";
import { runtimeKey } from "./_runtime.ts";
import { sleep } from "./_helpers.ts";

/** A confirmer on a fake probe that reports another connection's commit when `commits` says. */
function confirmerOn(commits: () => boolean) {
  let probes = 0;
  let changes = 0;
  let changedAt = NaN;
  const confirmer = eventConfirmer({
    path: "/nowhere/app.db",
    probe: {
      other: () => (probes++, commits()),
      any: () => "none",
      version: undefined,
    },
    onChange: () => {
      changes++;
      changedAt = performance.now();
    },
    onDatabaseFileEvent: () => {},
  });
  return { confirmer, probes: () => probes, changes: () => changes, changedAt: () => changedAt };
}

describe("event confirmer", () => {
  it("after a confirmed event, looks again only on Bun (whose fs.watch drops close events)", async () => {
    let pending = true; // one commit, visible at once
    const { confirmer, probes, changes } = confirmerOn(() => {
      const seen = pending;
      pending = false;
      return seen;
    });
    try {
      confirmer.onEvent("app.db-wal");
      assert.equal(changes(), 1);
      await sleep(50);
      // Bun: looks at 0.5, 1, 1.5 and 2.2 ms, for a commit whose event it dropped (one look at
      // 2.5 ms before). Elsewhere every write raises an event: nothing more to probe.
      const looks = probes() - 1;
      if (runtimeKey() === "bun") assert.equal(looks, 4);
      else assert.equal(looks, 0);
    } finally {
      confirmer.stop();
    }
  });

  it("on Bun, a commit whose event was dropped right after a confirmed one is seen within 1.5 ms", {
    skip: runtimeKey() === "bun" ? undefined : "only Bun's fs.watch drops events",
  }, async () => {
    let visibleAt = Infinity;
    const { confirmer, changes, changedAt } = confirmerOn(() => performance.now() >= visibleAt);
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
