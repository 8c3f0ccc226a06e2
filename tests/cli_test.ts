// The `honker-ts` command line (cli/main.ts): help, version and usage errors, read in-process
// through `resolve()` for every case and end to end (a child process of the runtime under test)
// for the exit status; and files the CLI must not touch: a missing file is not created, a file
// that is not SQLite or has no honker tables is refused with exit 1 and left as it was.
// Commands on real honker files: cli_inspect_test.ts and cli_follow_test.ts.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { openNodeSqlite } from "../adapters/node_sqlite.ts";
import { UsageError } from "../cli/_cli.ts";
import { COMMANDS, resolve } from "../cli/commands.ts";
import { removeTempDirs, tempDbPath } from "./_helpers.ts";
import { cli, schemaOf } from "./_cli.ts";

const VERSION = (JSON.parse(
  readFileSync(new URL("../package.json", import.meta.url), "utf8"),
) as { version: string }).version;
const NAMES = [
  "stats",
  "jobs",
  "dead",
  "schedules",
  "tail",
  "listen",
  "watch",
  "requeue",
  "cancel",
  "events",
  "pause",
  "resume",
  "dashboard",
];
after(removeTempDirs);

function fits80(text: string, what: string): void {
  for (const line of text.split("\n")) {
    assert.ok([...line].length <= 80, `${what}: line longer than 80 columns: ${line}`);
  }
}

describe("honker-ts CLI: help, version and usage errors", () => {
  it("resolve() gives the global help, each command's help and the version", () => {
    assert.deepEqual([...COMMANDS.keys()].sort(), [...NAMES].sort());
    for (const argv of [["--help"], ["-h"], ["help"]]) {
      const invocation = resolve(argv);
      assert.equal(invocation.kind, "print");
      const text = invocation.kind === "print" ? invocation.text : "";
      for (const name of NAMES) assert.match(text, new RegExp(`^  ${name} FILE`, "m"));
      fits80(text, argv[0]);
    }
    for (const name of NAMES) {
      for (const argv of [[name, "--help"], [name, "-h"], ["help", name], [name, "x", "--help"]]) {
        const invocation = resolve(argv);
        assert.equal(invocation.kind, "print", argv.join(" "));
        const text = invocation.kind === "print" ? invocation.text : "";
        assert.ok(text.startsWith(`Usage: honker-ts ${name} FILE`), text);
        fits80(text, name);
      }
    }
    assert.deepEqual(resolve(["--version"]), { kind: "print", text: `${VERSION}\n` });
    assert.deepEqual(resolve(["-V"]), { kind: "print", text: `${VERSION}\n` });
  });

  it("resolve() refuses a bad command line with a UsageError naming the problem", () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /^Missing command$/],
      [["frobnicate", "app.db"], /^Unknown command "frobnicate"$/],
      [["--frobnicate"], /^Unknown option "--frobnicate"$/],
      [["help", "frobnicate"], /^Unknown command "frobnicate"$/],
      [["stats"], /^Missing argument: FILE$/],
      [["stats", "app.db", "extra"], /^Unexpected argument "extra"$/],
      [["stats", "app.db", "--bogus"], /^Unknown option "--bogus"$/],
      [["stats", "app.db", "-x"], /^Unknown option "-x"$/],
      [["jobs", "app.db"], /^Missing argument: QUEUE$/],
      [["schedules", "app.db", "--limit", "5"], /^Unknown option "--limit"$/],
      [["tail", "app.db", "t", "--from"], /argument missing/],
      [["listen", "app.db"], /^Missing argument: CHANNEL$/],
      [["watch"], /^Missing argument: FILE$/],
      [["requeue", "app.db"], /^Missing argument: ID\.\.\.$/],
      [["cancel"], /^Missing argument: FILE ID\.\.\.$/],
    ];
    for (const [argv, message] of cases) {
      assert.throws(() => resolve(argv), (error: unknown) => {
        assert.ok(error instanceof UsageError, `${argv.join(" ")}: ${error}`);
        assert.equal(error.exitCode, 2);
        assert.match(error.message, message, argv.join(" "));
        return true;
      });
    }
  });

  it("end to end: help exits 0, a usage error exits 2 with the usage on stderr, before any file is read", async () => {
    const missing = tempDbPath("absent.db");
    const [help, version, ...errors] = await Promise.all([
      cli(["--help"]),
      cli(["--version"]),
      cli(["frobnicate"]),
      cli(["jobs", missing, "q", "--state", "done"]),
      cli(["dead", missing, "--limit", "0"]),
      cli(["tail", missing, "t", "--from", "1.5"]),
      cli(["cancel", missing, "7", "abc"]),
    ]);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: honker-ts <command> FILE/m);
    assert.equal(version.stdout, `${VERSION}\n`);
    const messages = [
      /^honker-ts: Unknown command "frobnicate"\nUsage: honker-ts <command> FILE/,
      /^honker-ts jobs: --state must be pending, scheduled, processing, dead or all, got "done"\nUsage: honker-ts jobs FILE QUEUE \[--state STATE\] \[--limit N\] \[--json\]\nRun "honker-ts jobs --help" for more\.\n$/,
      /^honker-ts dead: --limit must be a positive integer, got "0"\n/,
      /^honker-ts tail: --from must be a positive integer, got "1\.5"\n/,
      /^honker-ts cancel: ID must be a positive integer, got "abc"\n/,
    ];
    errors.forEach(({ code, stdout, stderr }, i) => {
      assert.equal(code, 2, stderr);
      assert.equal(stdout, "");
      assert.match(stderr, messages[i]);
    });
    assert.equal(existsSync(missing), false);
  });
});

describe("honker-ts CLI: files it must not touch", () => {
  it("a missing file exits 1 (read, follow and change commands alike) and is not created", async () => {
    const missing = tempDbPath("missing.db");
    const runs = [
      ["stats", missing],
      ["jobs", missing, "emails"],
      ["tail", missing, "orders"],
      ["watch", missing],
      ["cancel", missing, "1"],
    ];
    const results = await Promise.all(runs.map((args) => cli(args)));
    results.forEach(({ code, stderr }, i) => {
      assert.equal(code, 1, `${runs[i][0]}: ${stderr}`);
      const message = `^honker-ts ${runs[i][0]}: Cannot open ".*missing\\.db": no such file\\n$`;
      assert.match(stderr, new RegExp(message));
    });
    for (const suffix of ["", "-wal", "-shm", "-journal"]) {
      assert.equal(existsSync(missing + suffix), false, `missing.db${suffix} was created`);
    }
  });

  it("a file that is not SQLite, or SQLite without honker's tables, exits 1 and is left alone", async () => {
    const text = tempDbPath("notes.txt");
    writeFileSync(text, "just some text, long enough to not be a database header at all\n");
    const plain = tempDbPath("plain.db");
    const driver = await openNodeSqlite(plain);
    driver.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)");
    driver.close();
    const before = await schemaOf(plain);
    const cases: Array<[string[], RegExp]> = [
      [["stats", text], /^honker-ts stats: Cannot read ".*notes\.txt": file is not a database\n$/],
      [["listen", text, "ch"], /file is not a database/],
      [["stats", plain], /^honker-ts stats: Cannot read ".*plain\.db": not a honker database/],
      [["watch", plain], /not a honker database \(no _honker_\* tables\)/],
      [["requeue", plain, "1"], /not a honker database \(no _honker_\* tables\)/],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(args)));
    results.forEach(({ code, stderr }, i) => {
      assert.equal(code, 1, stderr);
      assert.match(stderr, cases[i][1]);
    });
    assert.equal(await schemaOf(plain), before);
    assert.match(readFileSync(text, "utf8"), /^just some text/);
  });
});
