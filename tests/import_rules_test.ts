// The import rules `npm run check` enforces (scripts/check_imports.ts): the tree passes, and a
// tree that breaks each rule fails naming it.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runScript } from "./_spawn.ts";
import { tempDbPath } from "./_helpers.ts";

const CHECK = fileURLToPath(new URL("../scripts/check_imports.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("..", import.meta.url));

function tree(files: Record<string, string>): string {
  const root = dirname(tempDbPath());
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe("import rules", () => {
  it("the repository keeps them", { timeout: 60_000 }, async () => {
    const result = await runScript(CHECK, [ROOT]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /no cycle/);
  });

  it("a cycle, a core import of the wake-up layer and a feature using another's class fail", {
    timeout: 60_000,
  }, async () => {
    const root = tree({
      "core/a/a.ts": 'import { b } from "../b/b.ts";\nexport const a = 1;\n',
      "core/b/b.ts": 'import { a } from "../a/a.ts";\nexport const b = 2;\n',
      "core/queue/queue.ts": "export class Queue {}\n",
      "core/stream/stream.ts": 'import { Queue } from "../queue/queue.ts";\n',
      "core/db/x.ts": 'import { w } from "../../wake/w.ts";\n',
      "wake/w.ts": "export const w = 1;\n",
    });
    const result = await runScript(CHECK, [root]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /import cycle: core\/a\/a\.ts ↔ core\/b\/b\.ts/);
    assert.match(result.stderr, /core\/db\/x\.ts: core\/ imports wake\/w\.ts, outside core\//);
    assert.match(result.stderr, /feature "stream" imports core\/queue\/queue\.ts/);
  });

  it("the main entry loading a bridge (and with it the NATS client) fails", {
    timeout: 60_000,
  }, async () => {
    const root = tree({
      "mod.ts": 'export { natsBridge } from "./bridges/nats/mod.ts";\n',
      "bridges/nats/mod.ts": "export const natsBridge = 1;\n",
    });
    const result = await runScript(CHECK, [root]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /mod\.ts: imports bridges\/nats\/mod\.ts; only its own subpath/);
  });
});
