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

/**
 * A block that serves until stopped (a server): once its output matches `ready`, `check` runs
 * against the match, then the block is stopped with SIGTERM.
 */
export interface Serving {
  ready: RegExp;
  check(match: RegExpMatchArray): Promise<void>;
}

/** How to run a block beyond the defaults. */
export interface SnippetOptions {
  /** Files the block imports beside it: name in the block's folder → path in the repository. */
  files?: Record<string, string>;
  /** More environment for the block. */
  env?: Record<string, string>;
  /** The block serves until stopped. */
  serving?: Serving;
}

function run(
  [command, args]: [string, string[]],
  cwd: string,
  options: SnippetOptions,
): Promise<{ code: number | null; output: string }> {
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  delete env.NODE_TEST_CONTEXT; // the block is a program (or a test file) of its own
  const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  let served: Promise<void> | undefined;
  const serving = options.serving;
  const onData = (chunk: string) => {
    output += chunk;
    const match = serving && !served ? output.match(serving.ready) : null;
    if (serving && match) {
      served = serving.check(match).finally(() => child.kill("SIGTERM"));
    }
  };
  child.stdout.setEncoding("utf8").on("data", onData);
  child.stderr.setEncoding("utf8").on("data", onData);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (!serving) return resolve({ code, output });
      if (!served) return reject(new Error(`never printed ${serving.ready}:\n${output}`));
      // Stopped by our SIGTERM once the check passed: a clean stop, like exit code 0.
      served.then(() => resolve({ code: signal === "SIGTERM" ? 0 : code, output }), reject);
    });
  });
}

/**
 * Runs one block in a fresh folder under tests/.tmp (a block that imports node:test under the
 * runtime's test runner) and checks its exit code and every `// prints: …` line it announces.
 */
export async function runSnippet(
  snippet: Snippet,
  specifiers: Map<string, string>,
  options: SnippetOptions = {},
): Promise<void> {
  mkdirSync(TMP, { recursive: true });
  const dir = mkdtempSync(join(TMP, "snippet-"));
  try {
    const isTest = /from "node:test"/.test(snippet.code);
    const file = join(dir, isTest ? "snippet_test.ts" : "snippet.ts");
    writeFileSync(file, mapImports(snippet.code, specifiers));
    for (const [name, source] of Object.entries(options.files ?? {})) {
      writeFileSync(join(dir, name), readFileSync(join(ROOT, source)));
    }
    const argv = isTest ? testArgv(file) : childArgv(file);
    const { code, output } = await run(argv, dir, options);
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
