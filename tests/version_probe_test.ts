// The change probe behind every cross-process wake (wake/version_probe.ts): `other()` (a bare
// PRAGMA data_version, on the file-system event path) and `any()` (data_version plus
// total_changes(), on the polls) share one baseline.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { probeOrAssumeOther, versionProbe } from "../wake/version_probe.ts";
import type { SqliteDriver } from "../core/db/driver.ts";
import { driverMatrix } from "./_drivers.ts";
import { removeTempDirs, tempDbPath } from "./_helpers.ts";

after(removeTempDirs);

const INSERT = "INSERT INTO t (n) VALUES (1)";

for (const entry of driverMatrix()) {
  describe(`${entry.id}: versionProbe()`, { skip: entry.skip ?? false }, () => {
    async function withPair(body: (ours: SqliteDriver, theirs: SqliteDriver) => void) {
      const path = tempDbPath();
      const ours = await entry.open(path);
      const theirs = await entry.open(path);
      try {
        ours.exec("PRAGMA journal_mode = WAL; CREATE TABLE t (n INTEGER)");
        body(ours, theirs);
      } finally {
        theirs.close();
        ours.close();
      }
    }

    it("other() is true once per batch of other connections' commits, never for our own", () =>
      withPair((ours, theirs) => {
        const probe = versionProbe(ours);
        assert.equal(probe.other(), false);
        theirs.run(INSERT);
        theirs.run(INSERT);
        assert.equal(probe.other(), true);
        assert.equal(probe.other(), false);
        ours.run(INSERT);
        assert.equal(probe.other(), false);
      }));

    it("any() tells another connection's commit from our own write, and both from nothing", () =>
      withPair((ours, theirs) => {
        const probe = versionProbe(ours);
        assert.equal(probe.any(), "none");
        ours.run(INSERT);
        assert.equal(probe.any(), "own");
        assert.equal(probe.any(), "none");
        theirs.run(INSERT);
        ours.run(INSERT);
        assert.equal(probe.any(), "other");
        assert.equal(probe.any(), "none");
      }));

    it("the two share one baseline: a commit other() reported is not reported again by any()", () =>
      withPair((ours, theirs) => {
        const probe = versionProbe(ours);
        theirs.run(INSERT);
        assert.equal(probe.other(), true);
        assert.equal(probe.any(), "none");
        theirs.run(INSERT);
        assert.equal(probe.any(), "other");
        assert.equal(probe.other(), false);
        // other() leaves total_changes() alone: our own write is still reported by any().
        ours.run(INSERT);
        assert.equal(probe.other(), false);
        assert.equal(probe.any(), "own");
      }));
  });
}

describe("probeOrAssumeOther()", () => {
  it("returns the look's answer, or the assumed one when the look throws", () => {
    assert.equal(probeOrAssumeOther(() => false, true), false);
    assert.equal(
      probeOrAssumeOther(() => {
        throw new Error("database is locked");
      }, true),
      true,
    );
    assert.equal(probeOrAssumeOther((): string => "none", "other"), "none");
  });
});
