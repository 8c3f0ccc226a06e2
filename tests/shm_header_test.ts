// The WAL index header read without a statement (wake/shm_header.ts): what it shows, and that
// the descriptors it keeps never release the locks of the application's own connections on
// the `-shm` file (POSIX drops all of a process's locks on a file when any descriptor of it
// closes).

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { dirname } from "node:path";
import { open } from "../mod.ts";
import { openDriver } from "../adapters/auto.ts";
import { openShmHeaders, shmHeader, shmHeaderReads } from "../wake/shm_header.ts";
import { walIndexHeaderOf } from "./_wal_index.ts";
import { removeTempDirs, tempDbPath } from "./_helpers.ts";
import { runScript } from "./_spawn.ts";

after(removeTempDirs);

const CHECKPOINT_PEER = new URL("./fixtures/checkpoint_peer.ts", import.meta.url).pathname;

describe("shmHeader()", () => {
  it("moves with every commit, from any connection, and not otherwise", async () => {
    const path = tempDbPath();
    const db = await open(path);
    const other = await openDriver(path);
    try {
      const jobs = db.queue("jobs");
      const start = walIndexHeaderOf(path);
      assert.deepEqual(walIndexHeaderOf(path), start, "no commit, same header");
      jobs.enqueue(1);
      const afterOurs = walIndexHeaderOf(path);
      assert.notDeepEqual(afterOurs, start, "our commit moves it");
      other.run("INSERT INTO _honker_live (queue, payload) VALUES ('jobs', '2')");
      const afterTheirs = walIndexHeaderOf(path);
      assert.notDeepEqual(afterTheirs, afterOurs, "another connection's commit moves it");
      assert.equal(other.get<{ n: number }>("SELECT count(*) AS n FROM _honker_live")?.n, 2);
      assert.deepEqual(walIndexHeaderOf(path), afterTheirs, "a read does not");
      assert.ok(shmHeaderReads(path) >= 5, "reads are counted");
    } finally {
      other.close();
      db.close();
    }
  });

  it("is undefined where there is no file to read (in memory, a URI, no -shm)", () => {
    assert.equal(shmHeader(":memory:"), undefined);
    assert.equal(shmHeader("file:app.db?mode=memory"), undefined);
    assert.equal(shmHeader(tempDbPath()), undefined);
  });

  it(
    "a closed Database leaves the application's connection its locks on the -shm file",
    { timeout: 60_000 },
    async () => {
      const path = tempDbPath();
      const app = await openDriver(path);
      try {
        app.exec("PRAGMA journal_mode = WAL; CREATE TABLE t (n INTEGER)");
        app.run("INSERT INTO t (n) VALUES (1)"); // frames in the WAL: a reader will use them
        const db = await open(path); // holds the header's descriptor
        db.queue("jobs").enqueue(1);
        db.close();
        app.exec("BEGIN");
        assert.equal(app.get<{ n: number }>("SELECT count(*) AS n FROM t")?.n, 1);
        openShmHeaders(); // sweeps: the file is in use, so its descriptor stays open
        // Another process cannot reset the WAL under the reader: it still holds its lock.
        const result = await runScript(CHECKPOINT_PEER, [path]);
        assert.equal(result.code, 0, result.stderr);
        const row = JSON.parse(result.stdout.trim()) as { busy: number };
        assert.equal(row.busy, 1, `the checkpoint ignored the reader: ${result.stdout}`);
        app.exec("COMMIT");
      } finally {
        app.close();
      }
    },
  );

  it("closes a descriptor once its file is gone, and not before", async () => {
    const path = tempDbPath();
    const db = await open(path);
    const held = openShmHeaders();
    db.close(); // the last connection: SQLite deletes the -shm file
    rmSync(dirname(path), { recursive: true, force: true });
    assert.equal(openShmHeaders(), held - 1);
  });
});
