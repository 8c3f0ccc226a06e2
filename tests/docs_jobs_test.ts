// Every ```ts block of docs/jobs.md runs as written, as a program of the runtime running the
// tests, and prints what its `// prints: …` comments announce.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { honkerSpecifiers, removeSnippetDir, ROOT, runSnippet, snippets } from "./_snippets.ts";

const DOC = join(ROOT, "docs", "jobs.md");
const blocks = snippets(readFileSync(DOC, "utf8"));
const specifiers = honkerSpecifiers();

describe("docs/jobs.md", () => {
  after(removeSnippetDir);

  it("has a block for each feature it documents", () => {
    const all = blocks.map((b) => b.code).join("\n");
    for (const call of ["enqueueUnique(", ".worker(", "prefetch:", ".pause()", ".jobs("]) {
      assert.ok(all.includes(call), call);
    }
  });

  for (const block of blocks) {
    it(`${block.name} runs as written`, { timeout: 120_000 }, () => runSnippet(block, specifiers));
  }
});
