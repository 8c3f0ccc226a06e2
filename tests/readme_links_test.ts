// The README and the documents it leads to point only at files inside the repository, and every
// such file ships in the npm tarball and the JSR package (issue #18).

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { runtimeKey } from "./_runtime.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DOCUMENTS = ["README.md", "ARCHITECTURE.md", "RELIABILITY.md", "docs/api.md"];
const LINK = /\]\(([^)\s#]+)(?:#[^)]*)?\)/g;
/** A backticked repository document, such as `RELIABILITY.md` or `docs/api.md`. */
const DOC_NAME = /`((?:[\w.-]+\/)*[\w.-]+\.md)`/g;

/** Every local file a document points at, repository-relative. */
function pointedAt(document: string): string[] {
  const text = readFileSync(join(ROOT, document), "utf8");
  const targets = [...text.matchAll(LINK)].map((m) => m[1])
    .filter((target) => !/^[a-z]+:/.test(target))
    .map((target) => normalize(join(dirname(document), target)));
  const named = [...text.matchAll(DOC_NAME)].map((m) => normalize(m[1]));
  return [...new Set([...targets, ...named])];
}

/** The files `npm pack` would put in the tarball (without building dist/). */
function tarballFiles(): Set<string> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    PATH: `${join(ROOT, "node_modules", ".bin")}:${process.env.PATH}`,
  };
  delete env.NODE_TEST_CONTEXT;
  const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
    cwd: ROOT,
    env,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  const [report] = JSON.parse(out) as Array<{ files: Array<{ path: string }> }>;
  return new Set(report.files.map((f) => f.path));
}

/** Whether a jsr.json `publish.include` pattern (`dir/**\/*.ext`, `docs/**\/*.md`, a path) takes `file`. */
function jsrIncludes(file: string): boolean {
  const { publish } = JSON.parse(readFileSync(join(ROOT, "jsr.json"), "utf8")) as {
    publish: { include: string[] };
  };
  return publish.include.some((pattern) => {
    const glob = /^(.*)\/\*\*\/\*(\.\w+)$/.exec(pattern);
    return glob ? file.startsWith(`${glob[1]}/`) && file.endsWith(glob[2]) : pattern === file;
  });
}

const documents = DOCUMENTS.flatMap((doc) => [doc, ...pointedAt(doc)])
  .filter((file, i, all) => all.indexOf(file) === i);

describe("documentation links", () => {
  it("point only at files inside the repository, which exist", () => {
    for (const doc of DOCUMENTS) {
      for (const target of pointedAt(doc)) {
        assert.ok(!relative(ROOT, join(ROOT, target)).startsWith(".."), `${doc} → ${target}`);
        assert.ok(existsSync(join(ROOT, target)), `${doc} points at ${target}, which is missing`);
      }
    }
  });

  it("every document they point at ships in the npm tarball and the JSR package", {
    skip: runtimeKey() !== "node" ? "npm pack runs once, from the Node suite" : undefined,
    timeout: 120_000,
  }, () => {
    const packed = tarballFiles();
    for (const file of documents.filter((f) => f.endsWith(".md") || f === "LICENSE")) {
      assert.ok(packed.has(file), `${file} is not in the npm tarball (package.json "files")`);
      assert.ok(jsrIncludes(file), `${file} is not in the JSR package (jsr.json publish.include)`);
    }
  });
});
