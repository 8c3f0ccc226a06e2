// Packaging: `npm pack`, install the tarball into a fresh project, and run a queue round trip
// from it on Node, Bun and Deno (Deno through an `npm:` specifier).

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { tempDbPath } from "./_helpers.ts";
import { runtimeKey } from "./_runtime.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(ROOT, "node_modules", ".bin");
/** The app's code: a queue round trip through the installed package. */
const ROUNDTRIP = `import { open } from "honker-ts";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
const db = await open(join(mkdtempSync(join(tmpdir(), "pk-")), "app.db"));
const q = db.queue("q");
q.enqueue({ hello: "world" });
const job = q.claimOne("w");
console.log(JSON.stringify({ payload: job.payload, acked: job.ack(), driver: db.driver.name }));
db.close();
`;

/** The dashboard through its subpath export: one page served from the installed package. */
const DASHBOARD = `import { open } from "honker-ts";
import { dashboard } from "honker-ts/dashboard";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
const db = await open(join(mkdtempSync(join(tmpdir(), "pk-")), "app.db"));
db.queue("q").enqueue({ hello: "world" });
const response = await dashboard(db)(new Request("http://127.0.0.1/"));
const html = await response.text();
console.log(JSON.stringify({ status: response.status, queue: html.includes('data-queue="q"') }));
db.close();
`;

// One run covers all three runtimes, so it belongs to one suite only.
const skip = runtimeKey() !== "node"
  ? "the packaging smoke test runs once, from the Node suite"
  : undefined;

function run(command: string, args: string[], cwd: string): string {
  const env: Record<string, string | undefined> = {
    ...process.env,
    PATH: `${BIN}:${process.env.PATH}`,
  };
  delete env.NODE_TEST_CONTEXT;
  return execFileSync(command, args, {
    cwd,
    env,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}

describe("the npm package", () => {
  it("packs, installs into a fresh project and runs a queue round trip on every runtime", {
    skip,
    timeout: 240_000,
  }, () => {
    const work = join(tempDbPath(), "..");
    run("npm", ["pack", "--pack-destination", work], ROOT);
    const tarball = readdirSync(work).find((name) => name.endsWith(".tgz"));
    assert.ok(tarball, "npm pack produced no tarball");
    const app = join(work, "app");
    mkdirSync(app);
    writeFileSync(
      join(app, "package.json"),
      JSON.stringify({ name: "app", type: "module", private: true }),
    );
    run("npm", ["install", "--no-audit", "--no-fund", join(work, tarball)], app);
    assert.ok(existsSync(join(app, "node_modules", "honker-ts", "dist", "mod.js")));
    assert.ok(existsSync(join(app, "node_modules", "honker-ts", "dist", "mod.d.ts")));
    // The NATS bridge ships as its own subpath; the app installs its client (@nats-io/jetstream).
    assert.ok(
      existsSync(join(app, "node_modules", "honker-ts", "dist", "bridges", "nats", "mod.js")),
    );
    assert.ok(existsSync(join(app, "node_modules", "honker-ts", "dist", "dashboard", "mod.js")));
    writeFileSync(join(app, "roundtrip.mjs"), ROUNDTRIP);
    writeFileSync(join(app, "dashboard.mjs"), DASHBOARD);
    writeFileSync(
      join(app, "roundtrip_npm.mjs"),
      `import "npm:honker-ts";\nawait import("./roundtrip.mjs");\n`,
    );
    const outputs = {
      node: run(join(BIN, "node"), ["--no-warnings", "roundtrip.mjs"], app),
      bun: run(join(BIN, "bun"), ["roundtrip.mjs"], app),
      deno: run(
        join(BIN, "deno"),
        ["run", "-A", "--node-modules-dir=manual", "roundtrip_npm.mjs"],
        app,
      ),
    };
    // The CLI ships compiled, so a plain Node 22 runs it from node_modules/.bin.
    const version = run(join(app, "node_modules", ".bin", "honker-ts"), ["--version"], app);
    assert.match(version.trim(), /^\d+\.\d+\.\d+/);
    for (const runtime of ["node", "bun"] as const) {
      const args = runtime === "node" ? ["--no-warnings", "dashboard.mjs"] : ["dashboard.mjs"];
      const served = JSON.parse(
        run(join(BIN, runtime), args, app).trim().split("\n").at(-1) ?? "{}",
      );
      assert.deepEqual(served, { status: 200, queue: true }, `honker-ts/dashboard on ${runtime}`);
    }
    for (const [runtime, output] of Object.entries(outputs)) {
      const result = JSON.parse(output.trim().split("\n").at(-1) ?? "{}");
      assert.deepEqual(result.payload, { hello: "world" }, runtime);
      assert.equal(result.acked, true, runtime);
    }
  });
});
