// Every ```ts block of README.md runs as written, as a program of the runtime running the tests:
// its "honker-ts" imports point at this repository's files, every other import is the real
// package, and a `// prints: …` comment is output the block must print. The "With your ORM"
// section's blocks run in readme_orm_test.ts. The dashboard block is served and fetched; the
// JetStream block runs against a 3-node nats-server cluster started here.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, describe, it } from "node:test";
import { join } from "node:path";
import { freePort, natsSkipReason, startCluster } from "./_nats.ts";
import type { NatsCluster } from "./_nats.ts";
import {
  honkerSpecifiers,
  markdownSection,
  removeSnippetDir,
  ROOT,
  runSnippet,
  snippets,
} from "./_snippets.ts";
import type { Snippet, SnippetOptions } from "./_snippets.ts";

const README = join(ROOT, "README.md");
const markdown = readFileSync(README, "utf8").replace(markdownSection(README, "With your ORM"), "");
const specifiers = honkerSpecifiers();
const blocks = snippets(markdown);

const natsSkip = natsSkipReason();
let cluster: NatsCluster | undefined;

/** What a block needs beyond running: files beside it, a server, a check while it serves. */
async function optionsFor(snippet: Snippet): Promise<SnippetOptions> {
  if (snippet.code.includes('from "./shard_for.ts"')) {
    return { files: { "shard_for.ts": "examples/shard_for.ts" } };
  }
  if (snippet.code.includes('from "honker-ts/dashboard"')) {
    const port = await freePort();
    return {
      env: { PORT: String(port), ADMIN_TOKEN: "s3cret" },
      serving: {
        ready: /dashboard on (http:\/\/\S+)/,
        async check([, url]) {
          const denied = await fetch(url);
          assert.equal(denied.status, 403, "a request without the token is refused");
          await denied.body?.cancel();
          const page = await fetch(url, { headers: { "x-admin-token": "s3cret" } });
          assert.equal(page.status, 200);
          assert.match(await page.text(), /<title>[^<]*honker-ts<\/title>/);
        },
      },
    };
  }
  if (snippet.code.includes('from "honker-ts/bridges/nats"')) {
    cluster ??= await startCluster();
    return { env: { NATS_URL: cluster.servers.join(",") } };
  }
  return {};
}

describe("README.md", () => {
  after(async () => {
    removeSnippetDir();
    await cluster?.stop();
  });

  it("has a runnable block for the queue, streams, schedules, dashboard, bridge and shards", () => {
    const all = blocks.map((b) => b.code).join("\n");
    for (
      const needed of ["db.queue<", "db.stream<", "db.scheduler()", "dashboard(db", "natsBridge("]
    ) {
      assert.ok(all.includes(needed), needed);
    }
    assert.ok(blocks.length >= 7, `${blocks.length} blocks`);
  });

  for (const snippet of blocks) {
    const needsNats = snippet.code.includes('from "honker-ts/bridges/nats"');
    it(
      `${snippet.name} runs as written`,
      { skip: needsNats ? natsSkip : undefined, timeout: 120_000 },
      async () => runSnippet(snippet, specifiers, await optionsFor(snippet)),
    );
  }
});
