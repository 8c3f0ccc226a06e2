// better-sqlite3 and libsql are optional: an application that imports honker-ts and opens a
// database with the runtime's default driver loads neither (no static import in mod.ts or
// adapters/auto.ts), so it needs neither installed.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { tempDbPath } from "./_helpers.ts";
import { runtimeKey } from "./_runtime.ts";

const MOD = new URL("../mod.ts", import.meta.url).href;

/** Opens and closes a database, then prints the npm packages CommonJS loaded. */
const PROGRAM = `
import { createRequire } from "node:module";
const { open } = await import(${JSON.stringify(MOD)});
const db = await open(process.argv[1]);
db.queue("q").enqueue({ n: 1 });
db.close();
const loaded = Object.keys(createRequire(import.meta.url).cache)
  .filter((file) => /node_modules[\\\\/](better-sqlite3|libsql|@libsql)[\\\\/]/.test(file));
console.log(JSON.stringify(loaded));
`;

describe("optional adapters", () => {
  it("importing honker-ts and opening a database loads neither better-sqlite3 nor libsql", {
    skip: runtimeKey() === "node"
      ? undefined
      : "checked from Node, whose CommonJS module cache shows which packages loaded",
  }, () => {
    const env: Record<string, string | undefined> = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const output = execFileSync(
      process.execPath,
      ["--no-warnings", "--input-type=module", "-e", PROGRAM, tempDbPath()],
      { env, encoding: "utf8", cwd: fileURLToPath(new URL("..", import.meta.url)) },
    );
    assert.deepEqual(JSON.parse(output.trim().split("\n").at(-1) ?? "null"), []);
  });
});
