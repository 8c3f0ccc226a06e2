// Every ```ts block of the README's "With your ORM" section and of docs/with-your-orm.md runs as
// written, as a program of the runtime running the tests: its "honker-ts" imports point at this
// repository's files, every other import is the real package. A block that imports node:test runs under the runtime's test runner. A
// `// prints: …` comment is output the block must print. A block whose binding cannot load on
// this runtime is skipped with the reason.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { runtimeKey } from "./_runtime.ts";
import { childArgv } from "./_spawn.ts";
import { cannotLoad } from "./fixtures/orm_stacks.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DOC = join(ROOT, "docs", "with-your-orm.md");
const README = join(ROOT, "README.md");
/** Inside the repository, so that the blocks' npm imports resolve from its node_modules. */
const TMP = join(ROOT, "tests", ".tmp");

/** One ```ts block of the document. */
interface Snippet {
  /** The heading it sits under, and its first line number. */
  name: string;
  code: string;
}

function snippets(markdown: string): Snippet[] {
  const found: Snippet[] = [];
  let heading = "";
  let open: { line: number; lines: string[] } | undefined;
  markdown.split("\n").forEach((text, index) => {
    if (open) {
      if (text.trim() === "```") {
        found.push({ name: `${heading} (line ${open.line})`, code: open.lines.join("\n") });
        open = undefined;
      } else open.lines.push(text);
    } else if (/^#+ /.test(text)) heading = text.replace(/^#+ /, "");
    else if (/^```ts\s*$/.test(text)) open = { line: index + 1, lines: [] };
  });
  assert.equal(open, undefined, "an unclosed ```ts block");
  return found;
}

/** `honker-ts` and its subpaths, as jsr.json maps them to this repository's files. */
function honkerSpecifiers(): Map<string, string> {
  const jsr = JSON.parse(readFileSync(join(ROOT, "jsr.json"), "utf8")) as {
    exports: Record<string, string>;
  };
  return new Map(
    Object.entries(jsr.exports).map(([key, file]) => [
      `honker-ts${key.slice(1)}`,
      pathToFileURL(join(ROOT, file)).href,
    ]),
  );
}

/** The block with its "honker-ts" imports pointing at this repository. */
function mapImports(code: string, specifiers: Map<string, string>): string {
  return code.replace(/(["'])(honker-ts(?:\/[^"']*)?)\1/g, (_, quote: string, name: string) => {
    const target = specifiers.get(name);
    if (!target) throw new Error(`The docs import ${name}, which jsr.json does not export`);
    return `${quote}${target}${quote}`;
  });
}

/** Why the block cannot run on this runtime, or undefined when it can. */
function whySkip(code: string): string | undefined {
  if (/from "(bun:sqlite|drizzle-orm\/bun-sqlite)"/.test(code) && runtimeKey() !== "bun") {
    return "bun:sqlite needs Bun";
  }
  if (/from "better-sqlite3"/.test(code)) return cannotLoad("better-sqlite3");
  if (/from "libsql"/.test(code)) return cannotLoad("libsql");
  return undefined;
}

/** How this runtime runs `file` as a test file. */
function testArgv(file: string): [string, string[]] {
  switch (runtimeKey()) {
    case "deno":
      return [process.execPath, ["test", "-A", "--no-check", file]];
    case "bun":
      return [process.execPath, ["test", file]];
    default:
      return [process.execPath, ["--no-warnings", "--test", file]];
  }
}

function run(
  [command, args]: [string, string[]],
  cwd: string,
): Promise<{ code: number | null; output: string }> {
  const env: Record<string, string | undefined> = { ...process.env };
  delete env.NODE_TEST_CONTEXT; // the block is a program (or a test file) of its own
  const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

/** The README's "## With your ORM" section, up to the next second-level heading. */
function readmeSection(): string {
  const readme = readFileSync(README, "utf8");
  const start = readme.indexOf("\n## With your ORM\n");
  assert.ok(start >= 0, 'the README has no "## With your ORM" section');
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

const markdown = `${readmeSection()}\n${readFileSync(DOC, "utf8")}`;
const specifiers = honkerSpecifiers();

describe("With your ORM (README.md and docs/with-your-orm.md)", () => {
  after(() => {
    try {
      rmdirSync(TMP); // only once empty: another runtime's run may be using it
    } catch {
      // Not there, or in use.
    }
  });

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
      async () => {
        mkdirSync(TMP, { recursive: true });
        const dir = mkdtempSync(join(TMP, "readme-orm-"));
        try {
          const isTest = /from "node:test"/.test(snippet.code);
          const file = join(dir, isTest ? "snippet_test.ts" : "snippet.ts");
          writeFileSync(file, mapImports(snippet.code, specifiers));
          const { code, output } = await run(isTest ? testArgv(file) : childArgv(file), dir);
          assert.equal(code, 0, output);
          for (const [, expected] of snippet.code.matchAll(/\/\/ prints: (.*)$/gm)) {
            assert.ok(output.includes(expected), `expected "${expected}" in:\n${output}`);
          }
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    );
  }
});
