// Every example runs unchanged as a program on the runtime running the tests.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { runScript } from "./_spawn.ts";

/** Each example, with a line its output must contain when it worked. */
const EXAMPLES: Array<[file: string, proof: RegExp]> = [
  ["quickstart.ts", /dead: job 2 after 2 attempts: invalid address "bad-address"/],
  ["queue_worker.ts", /dead letter: job 3 after 3 attempts: Error: corrupt image/],
  ["transactional_enqueue.ts", /consistent: every order has its email job/],
  [
    "stream_consumer.ts",
    /resumes after offset 1, lag 2[\s\S]*run 2: offset 2: order 1 paid[\s\S]*run 2: offset 3: order 2 placed[\s\S]*"offset":3,"lag":0/,
  ],
  ["notify_trigger.ts", /received 2 notifications/],
  ["outbox.ts", /delivered order 42 \(attempt 2\)[\s\S]*"acked":1,"retried":1/],
  ["cron_job.ts", /received 3 pings/],
  ["share_connection.ts", /job: \{"email":"ada@example\.com"\}/],
  ["graceful_shutdown.ts", /stopped \(queue empty\): \{"acked":12,"retried":0,"dead":0,"lost":0\}/],
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
