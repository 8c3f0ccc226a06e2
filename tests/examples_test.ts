// Every example runs unchanged as a program on the runtime running the tests.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { runScript } from "./_spawn.ts";

/** Each example, with a line its output must contain when it worked. */
const EXAMPLES: Array<[file: string, proof: RegExp]> = [
  ["quickstart.ts", /dead: job 2 after 2 attempts: invalid address "bad-address"/],
];

describe("examples", () => {
  for (const [file, proof] of EXAMPLES) {
    it(`examples/${file} runs and does what it says`, { timeout: 60_000 }, async () => {
      const script = fileURLToPath(new URL(`../examples/${file}`, import.meta.url));
      const result = await runScript(script);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, proof);
    });
  }
});
