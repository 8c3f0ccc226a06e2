/**
 * Runs the ```ts blocks of a Markdown document as written, as programs of the runtime running
 * the tests: their "honker-ts" imports point at this repository's files (as jsr.json maps them),
 * every other import is the real package. Used by the tests of the README's sections and docs.
 *
 * @module
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { runtimeKey } from "./_runtime.ts";
import { childArgv } from "./_spawn.ts";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** Inside the repository, so that the blocks' npm imports resolve from its node_modules. */
const TMP = join(ROOT, "tests", ".tmp");

/** One ```ts block of the document. */
export interface Snippet {
  /** The heading it sits under, and its first line number. */
  name: string;
  code: string;
}

export function snippets(markdown: string): Snippet[] {
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
export function honkerSpecifiers(): Map<string, string> {
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
export function mapImports(code: string, specifiers: Map<string, string>): string {
  return code.replace(/(["'])(honker-ts(?:\/[^"']*)?)\1/g, (_, quote: string, name: string) => {
    const target = specifiers.get(name);
    if (!target) throw new Error(`The docs import ${name}, which jsr.json does not export`);
    return `${quote}${target}${quote}`;
  });
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

/**
 * Runs one block in a fresh folder under tests/.tmp (a block that imports node:test under the
 * runtime's test runner) and checks its exit code and every `// prints: …` line it announces.
 */
export async function runSnippet(snippet: Snippet, specifiers: Map<string, string>): Promise<void> {
  mkdirSync(TMP, { recursive: true });
  const dir = mkdtempSync(join(TMP, "snippet-"));
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
}

/** Removes tests/.tmp once empty (another runtime's run may still be using it). */
export function removeSnippetDir(): void {
  try {
    rmdirSync(TMP);
  } catch {
    // Not there, or in use.
  }
}

/** A `## heading` section of a Markdown file, up to the next second-level heading. */
export function markdownSection(file: string, heading: string): string {
  const text = readFileSync(file, "utf8");
  const start = text.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `${file} has no "## ${heading}" section`);
  const end = text.indexOf("\n## ", start + 1);
  return text.slice(start, end < 0 ? undefined : end);
}
