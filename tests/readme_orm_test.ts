// Every ```ts block of the README's "With your ORM" section and of docs/with-your-orm.md runs as
// written, as a program of the runtime running the tests: its "honker-ts" imports point at this
// repository's files, every other import is the real package. A block that imports node:test runs
// under the runtime's test runner. A `// prints: …` comment is output the block must print. A block
// whose binding cannot load on this runtime is skipped with the reason.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runtimeKey } from "./_runtime.ts";
import {
  honkerSpecifiers,
  markdownSection,
  removeSnippetDir,
  ROOT,
  runSnippet,
  snippets,
} from "./_snippets.ts";
import { cannotLoad } from "./fixtures/orm_stacks.ts";

const DOC = join(ROOT, "docs", "with-your-orm.md");
const README = join(ROOT, "README.md");

/** Why the block cannot run on this runtime, or undefined when it can. */
function whySkip(code: string): string | undefined {
  if (/from "(bun:sqlite|drizzle-orm\/bun-sqlite)"/.test(code) && runtimeKey() !== "bun") {
    return "bun:sqlite needs Bun";
  }
  if (/from "better-sqlite3"/.test(code)) return cannotLoad("better-sqlite3");
  if (/from "libsql"/.test(code)) return cannotLoad("libsql");
  return undefined;
}

const markdown = `${markdownSection(README, "With your ORM")}\n${readFileSync(DOC, "utf8")}`;
const specifiers = honkerSpecifiers();

describe("With your ORM (README.md and docs/with-your-orm.md)", () => {
  after(removeSnippetDir);

  it("has ```ts blocks for Drizzle on each binding, Kysely and openTestDatabase()", () => {
    const all = snippets(markdown).map((s) => s.code).join("\n");
    for (const needed of ["drizzle-orm/better-sqlite3", "drizzle-orm/bun-sqlite", "libsql"]) {
      assert.ok(all.includes(`"${needed}"`), needed);
    }
    assert.match(all, /new SqliteDialect\(/);
    assert.match(all, /openTestDatabase\(/);
  });

  for (const snippet of snippets(markdown)) {
    it(
      `${snippet.name} runs as written`,
      { skip: whySkip(snippet.code), timeout: 120_000 },
      () => runSnippet(snippet, specifiers),
    );
  }
});
