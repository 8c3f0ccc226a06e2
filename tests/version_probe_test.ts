// The change probe behind every cross-process wake (wake/version_probe.ts): `other()` (on the
// file-system event path: the WAL index header, then a bare PRAGMA data_version when the header
// cannot answer) and `any()` (data_version plus total_changes(), on the polls) share one
// baseline; `stamp()` names the state a look starts from.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { probeOrAssumeOther, versionProbe } from "../wake/version_probe.ts";
import type { SqliteDriver } from "../core/db/driver.ts";
import { driverMatrix } from "./_drivers.ts";
import { removeTempDirs, tempDbPath } from "./_helpers.ts";
import { statementLog } from "./_statement_log.ts";

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

    /** A probe on a logging connection and another connection; `own` counts our API writes. */
    async function withLoggedPair(
      journal: "WAL" | "DELETE",
      body: (probe: ReturnType<typeof versionProbe>, ctx: Logged) => void,
    ) {
      const path = tempDbPath();
      const ours = statementLog(await entry.open(path));
      const theirs = await entry.open(path);
      try {
        ours.exec(`PRAGMA journal_mode = ${journal}; CREATE TABLE t (n INTEGER)`);
        const ctx: Logged = {
          ours,
          theirs,
          own: 0,
          known: { commits: 0, writes: 0 },
          pragmas: () => ours.log.filter((s) => s.sql.includes("data_version")).length,
        };
        const probe = versionProbe(ours, {
          ownWrites: () => ctx.own,
          ownCommits: () => ctx.known,
        });
        body(probe, ctx);
      } finally {
        theirs.close();
        ours.close();
      }
    }

    it("other() runs no statement while nobody commits", () =>
      withLoggedPair("WAL", (probe, { pragmas }) => {
        assert.equal(probe.readsHeader, false, "no header read yet");
        assert.equal(probe.other(), false); // the first look has no header to compare with
        assert.equal(probe.readsHeader, true);
        const before = pragmas();
        for (let i = 0; i < 20; i++) assert.equal(probe.other(), false);
        assert.equal(pragmas() - before, 0);
      }));

    it("another connection's commit, with no write of ours since: true at once, no statement", () =>
      withLoggedPair("WAL", (probe, { theirs, pragmas }) => {
        probe.other();
        const before = pragmas();
        theirs.run(INSERT);
        assert.equal(probe.other(), true);
        assert.ok(probe.version !== undefined && probe.version < 0, `version ${probe.version}`);
        assert.equal(probe.other(), false);
        assert.equal(pragmas() - before, 0);
      }));

    it("after a write of ours, a header moved by no more commits is confirmed with data_version", () =>
      withLoggedPair("WAL", (probe, ctx) => {
        probe.other();
        let before = ctx.pragmas();
        ctx.ours.run(INSERT);
        ctx.own++;
        assert.equal(probe.other(), false, "our own commit alone");
        assert.equal(ctx.pragmas() - before, 1);
        // A write of ours that committed nothing (an ack of a job already gone), and theirs:
        // one commit for one write, which the header cannot tell from our own.
        before = ctx.pragmas();
        ctx.own++;
        ctx.theirs.run(INSERT);
        assert.equal(probe.other(), true, "theirs, behind a write of ours that committed nothing");
        assert.equal(ctx.pragmas() - before, 1);
        assert.ok(probe.version !== undefined && probe.version > 0, "a data_version");
      }));

    it("after a write of ours, more commits than our writes: true from the header, no statement", () =>
      withLoggedPair("WAL", (probe, ctx) => {
        probe.other();
        const before = ctx.pragmas();
        ctx.ours.run(INSERT);
        ctx.own++;
        ctx.theirs.run(INSERT);
        assert.equal(probe.other(), true, "ours and theirs");
        assert.ok(probe.version !== undefined && probe.version < 0, "the header's stamp");
        for (let i = 0; i < 3; i++) ctx.ours.run(INSERT);
        ctx.own += 3;
        ctx.theirs.run(INSERT);
        ctx.theirs.run(INSERT);
        assert.equal(probe.other(), true, "three of ours, two of theirs");
        assert.equal(ctx.pragmas() - before, 0);
        // A raw write of ours (no API write reports it) beside an API write looks like another
        // connection's commit: a spurious wake, the safe side.
        ctx.ours.run(INSERT);
        ctx.ours.run(INSERT);
        ctx.own++;
        assert.equal(probe.other(), true, "an unreported write of ours counts as theirs");
      }));

    it("our own commits known to have changed rows: false from the header, no statement", () =>
      withLoggedPair("WAL", (probe, ctx) => {
        probe.other();
        const before = ctx.pragmas();
        /** A commit of ours that changed rows, with `writes` API writes in it, reported. */
        const knownCommit = (writes: number) => {
          ctx.ours.run(INSERT);
          ctx.own += writes;
          ctx.known.commits++;
          ctx.known.writes += writes;
        };
        knownCommit(1);
        assert.equal(probe.other(), false, "one commit of ours");
        knownCommit(3);
        knownCommit(1);
        assert.equal(probe.other(), false, "two commits of ours, four writes");
        assert.equal(ctx.pragmas() - before, 0);
        // Theirs beside a known commit of ours: one commit more than we know of.
        knownCommit(1);
        ctx.theirs.run(INSERT);
        assert.equal(probe.other(), true, "ours and theirs");
        assert.equal(ctx.pragmas() - before, 0);
      }));

    it("an API write outside the known commits, or a commit we did not report, still asks SQLite or wakes", () =>
      withLoggedPair("WAL", (probe, ctx) => {
        probe.other();
        // A known commit of ours, and a write of ours that committed nothing, while they commit
        // once: two commits for two writes, the header cannot tell.
        ctx.ours.run(INSERT);
        ctx.own++;
        ctx.known.commits++;
        ctx.known.writes++;
        ctx.own++;
        ctx.theirs.run(INSERT);
        let before = ctx.pragmas();
        assert.equal(probe.other(), true, "theirs, behind an unknown write of ours");
        assert.equal(ctx.pragmas() - before, 1, "confirmed with data_version");
        // A known commit of ours and a raw one nobody reported: more commits than known, a
        // spurious wake (the safe side), never "nothing".
        ctx.ours.run(INSERT);
        ctx.ours.run(INSERT);
        ctx.own++;
        ctx.known.commits++;
        ctx.known.writes++;
        before = ctx.pragmas();
        assert.equal(probe.other(), true, "an unreported commit of ours reads as theirs");
        assert.equal(ctx.pragmas() - before, 0, "from the header: more commits than our writes");
      }));

    it("stamp() stays while nobody commits and moves with every commit", () =>
      withLoggedPair("WAL", (probe, { ours, theirs }) => {
        const first = probe.stamp();
        assert.ok(first !== undefined && first < 0, `stamp ${first}`);
        assert.equal(probe.stamp(), first);
        theirs.run(INSERT);
        const second = probe.stamp();
        assert.ok(second !== undefined && second !== first);
        ours.run(INSERT);
        assert.notEqual(probe.stamp(), second);
        // other() names the state it saw with the same stamps (once it has a header to compare).
        probe.other();
        theirs.run(INSERT);
        assert.equal(probe.other(), true);
        assert.equal(probe.version, probe.stamp());
      }));

    it("without a WAL index header, other() asks data_version every time and stays right", () =>
      withLoggedPair("DELETE", (probe, { theirs, ours, pragmas }) => {
        assert.equal(probe.stamp(), undefined);
        probe.other();
        assert.equal(probe.readsHeader, false, "an event's looks must not spin on statements");
        const before = pragmas();
        assert.equal(probe.other(), false);
        theirs.run(INSERT);
        assert.equal(probe.other(), true);
        ours.run(INSERT);
        assert.equal(probe.other(), false);
        assert.equal(pragmas() - before, 3);
      }));
  });
}

/** What a logged pair's test is given. */
interface Logged {
  ours: ReturnType<typeof statementLog>;
  theirs: SqliteDriver;
  /** This process's writes through the API, as the probe's `ownWrites()` counts them. */
  own: number;
  /** Our commits known to have changed rows, and the API writes in them (`ownCommits()`). */
  known: { commits: number; writes: number };
  /** data_version reads on our connection so far. */
  pragmas(): number;
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
