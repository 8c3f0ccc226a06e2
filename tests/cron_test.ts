// Schedule expressions (spec §5.6, §8, §9 item 64): honker's own unit cases, error messages,
// the opt-in extended syntax, time-zone cases in child processes with TZ set, and the
// differential test against honker's `honker_cron_next_after` (`CRON_SEED` replays a run,
// `CRON_DIFF_N=100000` makes it long).

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { dirname } from "node:path";
import process from "node:process";
import { nextFireAfter, parseSchedule } from "../core/scheduler/cron/cron.ts";
import { honkerExtSkip } from "./_honker_ext.ts";
import { runScript } from "./_spawn.ts";

const EXT_SKIP = await honkerExtSkip();
const here = import.meta.dirname ?? dirname(decodeURIComponent(new URL(import.meta.url).pathname));
const fixture = (name: string) => `${here}/fixtures/${name}`;

/** Unix seconds of a local date-time in this process's time zone (month 1–12). */
const local = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0) =>
  new Date(y, mo - 1, d, h, mi, s).getTime() / 1000;
/** Unix seconds of a UTC ISO date-time. */
const utc = (iso: string) => Date.parse(`${iso}Z`) / 1000;

describe("nextFireAfter() with honker's unit cases (honker-core/src/cron.rs)", () => {
  const cases: Array<[string, string, number, number]> = [
    ["every minute", "* * * * *", local(2026, 4, 19, 12, 30), local(2026, 4, 19, 12, 31)],
    ["*/5 minutes", "*/5 * * * *", local(2026, 4, 19, 12, 30), local(2026, 4, 19, 12, 35)],
    [
      "6-field */10 s",
      "*/10 * * * * *",
      local(2026, 4, 19, 12, 30, 5),
      local(2026, 4, 19, 12, 30, 10),
    ],
    ["@every 1s", "@every 1s", local(2026, 4, 19, 12, 30, 5), local(2026, 4, 19, 12, 30, 6)],
    ["nightly 3 am", "0 3 * * *", local(2026, 4, 19, 10), local(2026, 4, 20, 3)],
    ["strictly after", "0 3 * * *", local(2026, 4, 19, 3), local(2026, 4, 20, 3)],
    ["range with step", "0-30/10 * * * *", local(2026, 4, 19, 12, 5), local(2026, 4, 19, 12, 10)],
    ["comma list", "0,30 * * * *", local(2026, 4, 19, 12, 10), local(2026, 4, 19, 12, 30)],
    ["day-of-week filter", "0 12 * * 1", local(2026, 4, 19), local(2026, 4, 20, 12)],
    ["crossing a year", "0 0 1 1 *", local(2026, 12, 31, 23, 59, 59), local(2027, 1, 1)],
    [
      "a/step is only a",
      "5/15 * * * * *",
      local(2026, 4, 19, 12, 0, 6),
      local(2026, 4, 19, 12, 1, 5),
    ],
    ["dom AND dow", "0 0 13 * 5", local(2026, 1, 1), local(2026, 2, 13)],
    ["leap day", "0 0 29 2 *", local(2026, 1, 1), local(2028, 2, 29)],
    ["plus sign and zeros", "+05 007 * * *", local(2026, 4, 19), local(2026, 4, 19, 7, 5)],
  ];
  for (const [what, expr, from, want] of cases) {
    it(`nextFireAfter("${expr}") — ${what}`, () => assert.equal(nextFireAfter(expr, from), want));
  }

  it("nextFireAfter() with @every adds plain seconds whatever the time zone", () => {
    assert.equal(nextFireAfter("@every 90m", 1_000_000_000), 1_000_005_400);
    assert.equal(nextFireAfter("@every\t2d", -5), 172_795);
    assert.equal(nextFireAfter(" @every1h ", 0), 3600);
  });
});

describe("parseSchedule() refusals (spec §5.6, §8)", () => {
  const refusals: Array<[string, "TypeError" | "RangeError", string]> = [
    ["* * * *", "TypeError", 'expected 5 or 6 cron fields or "@every <n><unit>", got 4 fields'],
    ["* * *", "TypeError", 'expected 5 or 6 cron fields or "@every <n><unit>", got 3 fields'],
    ["", "TypeError", 'expected 5 or 6 cron fields or "@every <n><unit>", got 0 fields'],
    ["@every", "TypeError", 'expected "@every <n><unit>" with a unit of s, m, h or d'],
    ["@every 0s", "RangeError", 'interval count must be positive, got "0s"'],
    ["@every 5w", "TypeError", 'interval unit "w" is not one of s, m, h, d'],
    ["@every 5 s", "TypeError", 'interval unit " s" is not one of s, m, h, d'],
    ["60 * * * * *", "RangeError", 'second field "60" is out of range 0–59'],
    ["* * 24 * * *", "RangeError", 'hour field "24" is out of range 0–23'],
    ["61 * * * *", "RangeError", 'minute field "61" is out of range 0–59'],
    ["* 24 * * *", "RangeError", 'hour field "24" is out of range 0–23'],
    ["0 0 0 * *", "RangeError", 'day-of-month field "0" is out of range 1–31'],
    ["0 0 * 1,13 *", "RangeError", 'month field "13" is out of range 1–12'],
    ["0 0 * * 7", "RangeError", 'day-of-week field "7" is out of range 0–6 (Sunday is 0)'],
    ["30-10 * * * *", "RangeError", 'minute field "30-10" is an inverted range'],
    ["*/0 * * * *", "RangeError", 'minute field step in "*/0" must be a positive integer'],
    ["*/x * * * *", "TypeError", 'minute field step in "*/x" must be a positive integer'],
    ["1,,2 * * * *", "TypeError", 'minute field "" is not an integer'],
    ["\ufeff* * * * *", "TypeError", 'minute field "\ufeff*" is not an integer'],
  ];
  for (const [expr, name, reason] of refusals) {
    it(`parseSchedule(${JSON.stringify(expr)}) throws a ${name}`, () => {
      const message = `Cannot parse schedule ${JSON.stringify(expr)}: ${reason}`;
      assert.throws(() => parseSchedule(expr), { name, message });
    });
  }

  it("parseSchedule() points croner syntax at extendedSyntax", () => {
    const hint = "names, L, W, #, ? and macros such as @daily need { extendedSyntax: true }";
    for (const expr of ["0 0 * * MON", "0 0 L * *", "0 0 * * 1#2", "0 0 ? * *", "@daily"]) {
      assert.throws(() => parseSchedule(expr), (e: Error) => e.message.includes(hint), expr);
    }
    assert.throws(() => parseSchedule("0 0 * * 7"), (e: Error) => !e.message.includes(hint));
  });

  it("parseSchedule() and nextFireAfter() refuse bad argument types", () => {
    assert.throws(() => parseSchedule(5 as unknown as string), {
      name: "TypeError",
      message: "Cannot parse schedule: the expression must be a string, got 5",
    });
    for (const from of [1.5, Number.NaN, "1" as unknown as number, 2 ** 60]) {
      assert.throws(() => nextFireAfter("* * * * *", from), {
        name: "TypeError",
        message: `Cannot compute the next fire of schedule "* * * * *": fromUnixS must be ` +
          `whole unix seconds, got ${typeof from === "string" ? '"1"' : from}`,
      });
    }
    assert.throws(() => nextFireAfter("* * * * *", 9e12), { name: "RangeError" });
    assert.throws(() => nextFireAfter("@every 9999999999999999s", 0), { name: "RangeError" });
  });

  it("nextFireAfter() refuses a schedule with no match within 100 years, as honker", () => {
    const from = local(2026, 4, 19, 8);
    assert.throws(() => nextFireAfter("0 0 31 2 *", from), {
      name: "RangeError",
      message: 'Cannot compute the next fire of schedule "0 0 31 2 *": no time matches within ' +
        "100 years after 2026-04-19T08:00:00 local time",
    });
  });
});

describe("parseSchedule() objects", () => {
  it("parseSchedule() returns the cached object for a repeated expression", () => {
    const a = parseSchedule("*/7 * * * *");
    assert.equal(parseSchedule("*/7 * * * *"), a);
    assert.notEqual(parseSchedule("*/7 * * * *", { extendedSyntax: true }), a);
    assert.deepEqual([a.kind, a.honkerCompatible, a.expression], ["cron", true, "*/7 * * * *"]);
    assert.equal(parseSchedule("@every 5m").kind, "every");
  });

  it("parseSchedule() accepts Rust's whitespace, not JavaScript's", () => {
    assert.equal(parseSchedule("\u0085*\u3000*\t* *\u00a0*").kind, "cron");
    assert.throws(() => parseSchedule("*\ufeff* * * *"), { name: "TypeError" });
  });
});

describe("parseSchedule() with extendedSyntax", () => {
  const x = { extendedSyntax: true };
  it("accepts croner's additions and marks them not honker-compatible", () => {
    const cases: Array<[string, number, number]> = [
      ["0 0 L * *", local(2026, 2, 1, 12), local(2026, 2, 28)],
      ["0 0 * * 1#2", local(2026, 4, 19), local(2026, 5, 11)],
      ["0 0 15W * *", local(2026, 3, 1), local(2026, 3, 16)],
      ["0 0 * * 5L", local(2026, 4, 1), local(2026, 4, 24)],
      ["0 9 * JAN MON-FRI", local(2026, 4, 19), local(2027, 1, 1, 9)],
      ["0 0 * * 7", local(2026, 4, 19, 1), local(2026, 4, 26)],
      ["@daily", local(2026, 4, 19, 1), local(2026, 4, 20)],
      ["@hourly", local(2026, 4, 19, 1, 30), local(2026, 4, 19, 2)],
      ["0 0 0 ? * *", local(2026, 4, 19, 1), local(2026, 4, 20)],
    ];
    for (const [expr, from, want] of cases) {
      const schedule = parseSchedule(expr, x);
      assert.equal(schedule.honkerCompatible, false, expr);
      assert.equal(schedule.nextFireAfter(from), want, expr);
    }
  });

  it("keeps honker's meaning for fields honker can read", () => {
    // 5/15 stays "only 5" beside a name; days of month and week are still ANDed.
    const from = local(2026, 4, 19, 12, 0, 6);
    assert.equal(nextFireAfter("5/15 * * * * SUN", from, x), local(2026, 4, 19, 12, 1, 5));
    assert.equal(nextFireAfter("0 0 13 * FRI", local(2026, 1, 1), x), local(2026, 2, 13));
    const plain = parseSchedule("0 0 * * 1-5", x);
    assert.equal(plain.honkerCompatible, true);
  });

  it("still refuses what neither grammar reads", () => {
    assert.throws(() => parseSchedule("@reboot", x), { name: "TypeError" });
    assert.throws(() => parseSchedule("0 0 0 1 1 * 2030", x), {
      name: "TypeError",
      message: 'Cannot parse schedule "0 0 0 1 1 * 2030": expected 5 or 6 cron fields or ' +
        '"@every <n><unit>", got 7 fields',
    });
    assert.throws(() => parseSchedule("*/0 * * * MON", x), {
      name: "RangeError",
      message: 'Cannot parse schedule "*/0 * * * MON": minute field step in "*/0" must be a ' +
        "positive integer, and croner refuses it too: Syntax error, illegal stepping: 0",
    });
    assert.throws(() => parseSchedule("@every 5w", x), { name: "TypeError" });
  });
});

const NY = "America/New_York";
const BERLIN = "Europe/Berlin";
const X = true;
// [TZ, expr, from (UTC), expected (UTC), extendedSyntax?]
const TZ_CASES: Array<[string, string, string, string, boolean?]> = [
  // honker's own DST test: US/Eastern 01:59:59 EST → 03:00:00 EDT.
  [NY, "0 * * * * *", "2026-03-08T06:59:59", "2026-03-08T07:00:00"],
  // 02:30 does not exist: the first instant after the gap (03:00 EDT), not ECMAScript's 03:30.
  [NY, "30 2 * * *", "2026-03-07T12:00:00", "2026-03-08T07:00:00"],
  [NY, "*/15 2 * * *", "2026-03-08T07:00:00", "2026-03-09T06:00:00"],
  // The repeated hour maps to its LATER instant (EST), so the EDT copy of 01:xx never fires.
  [NY, "30 1 * * *", "2026-10-31T12:00:00", "2026-11-01T06:30:00"],
  [NY, "* * * * *", "2026-11-01T04:59:00", "2026-11-01T06:00:00"],
  // TZ is honoured: 09:00 EDT is 13:00Z; @every ignores DST.
  [NY, "0 9 * * 1-5", "2026-06-01T00:00:00", "2026-06-01T13:00:00"],
  [NY, "@every 1h", "2026-03-08T06:30:00", "2026-03-08T07:30:00"],
  // Extended schedules follow the same rules.
  [NY, "30 2 * * SUN", "2026-03-07T12:00:00", "2026-03-08T07:00:00", X],
  [NY, "0 0 L * *", "2026-02-01T12:00:00", "2026-02-28T05:00:00", X],
  // Berlin: 02:30 → 03:00 CEST in spring, the later (CET) 02:30 in autumn, leap day, year end.
  [BERLIN, "30 2 * * *", "2026-03-28T12:00:00", "2026-03-29T01:00:00"],
  [BERLIN, "30 2 * * *", "2026-10-24T12:00:00", "2026-10-25T01:30:00"],
  [BERLIN, "0 0 29 2 *", "2026-01-01T00:00:00", "2028-02-28T23:00:00"],
  [BERLIN, "0 0 1 1 *", "2026-12-31T22:59:59", "2026-12-31T23:00:00"],
];

describe("nextFireAfter() in a time zone (child processes with TZ set)", () => {
  for (const tz of [NY, BERLIN]) {
    it(`nextFireAfter() in TZ=${tz} follows honker's DST rules`, async () => {
      const cases = TZ_CASES.filter((c) => c[0] === tz);
      const arg = JSON.stringify(cases.map(([, expr, from, , x]) => [expr, utc(from), x ?? false]));
      const child = await runScript(fixture("cron_eval.ts"), [arg], { TZ: tz });
      assert.equal(child.code, 0, child.stderr);
      const { ours, honker } = JSON.parse(child.stdout) as Record<string, unknown[] | null>;
      cases.forEach(([, expr, from, want, x], i) => {
        const what = `${expr} after ${from}Z`;
        assert.equal(ours![i], utc(want), `ours: ${what}`);
        if (honker !== null && !x) assert.equal(honker[i], utc(want), `honker: ${what}`);
      });
    });
  }
});

const DIFF_ZONES = ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe"];
const DIFF_N = Number(process.env.CRON_DIFF_N ?? 10_000);
const SEED = Number(process.env.CRON_SEED ?? Math.floor(Math.random() * 2 ** 31));

describe("nextFireAfter() against honker_cron_next_after", () => {
  it(
    "nextFireAfter() agrees with honker on random expressions × instants in three zones",
    { skip: EXT_SKIP ?? false },
    async () => {
      console.log(`cron differential: CRON_SEED=${SEED} CRON_DIFF_N=${DIFF_N}`);
      const invalidN = Math.max(2000, Math.round(DIFF_N / 5));
      const runs = await Promise.all(
        DIFF_ZONES.map((tz) =>
          runScript(fixture("cron_diff.ts"), [String(SEED), String(DIFF_N), String(invalidN)], {
            TZ: tz,
          })
        ),
      );
      for (const run of runs) {
        assert.equal(run.code, 0, run.stderr);
        const report = JSON.parse(run.stdout);
        console.log(`cron differential: ${run.stdout.trim().slice(0, 400)}`);
        assert.ok(report.valid >= DIFF_N && report.invalid >= invalidN, run.stdout);
        assert.equal(report.notAfterFrom, 0, run.stdout);
        assert.deepEqual(report.firstMismatches, [], `CRON_SEED=${SEED} ${run.stdout}`);
        assert.equal(report.mismatches, 0);
      }
    },
  );
});
