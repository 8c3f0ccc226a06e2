/**
 * Schedule expressions: honker's cron grammar and `@every <n><s|m|h|d>`, evaluated
 * exactly as honker's SQL function `honker_cron_next_after(expr, from_unix)`, in the system time
 * zone (`TZ`). croner's richer syntax is an opt-in for schedules only honker-ts leaders will tick.
 *
 * honker reads the zone with chrono from the system tz database; JavaScript engines use their
 * own (ICU). They agree when `TZ` is unset or an IANA name (`Europe/Berlin`, `:Europe/Berlin`,
 * `US/Eastern`) and the two databases carry the same rules. chrono also honours a POSIX rule
 * string (`EST5EDT,M3.2.0,M11.1.0`) or a file path in `TZ`, which JavaScript engines do not, and
 * the databases can differ for zones with irregular rules (`Africa/Casablanca`).
 *
 * @module
 */

import {
  EXTENDED_HINT,
  fieldCountError,
  listOf,
  parseCronFields,
  ParseFailure,
  parseHonker,
  rustFields,
  rustTrim,
} from "./parse.ts";
import type { CronSets, FieldSet } from "./parse.ts";
import { cronerSearch, formatNaive, fromNaive, searchNaive, toNaive } from "./next.ts";
import type { NaiveSearch } from "./next.ts";
import { requireOptions } from "../../db/validate.ts";

/**
 * Options for `parseSchedule()` and `nextFireAfter()`.
 *
 * @example Opt in to croner's syntax
 * ```ts
 * import { nextFireAfter } from "./cron.ts";
 * const lastOfMonth = nextFireAfter("0 0 L * *", 1_767_225_600, { extendedSyntax: true });
 * ```
 */
export interface ScheduleOptions {
  /**
   * Also accept what croner adds to honker's grammar: month and day names (`JAN`, `MON`), `L`,
   * `W`, `#`, `?`, `7` for Sunday and the macros `@yearly`, `@monthly`, `@weekly`, `@daily`,
   * `@hourly`. Fields honker can read keep honker's meaning (`5/15` is still only 5), days of
   * month and week are still ANDed, and the time zone and DST rules stay honker's. honker's own
   * scheduler cannot parse such a schedule, so store one only where honker-ts processes are the
   * only ones that can become scheduler leader. Defaults to false.
   */
  extendedSyntax?: boolean;
}

/**
 * A parsed schedule expression, reusable for many `nextFireAfter()` calls.
 *
 * @example Walk the next three fires
 * ```ts
 * import { parseSchedule } from "./cron.ts";
 * const schedule = parseSchedule("*\/15 * * * *");
 * let at = 1_767_225_600;
 * for (let i = 0; i < 3; i++) at = schedule.nextFireAfter(at);
 * ```
 */
export interface Schedule {
  /** The expression as it was given. */
  readonly expression: string;
  /** `"every"` for `@every <n><unit>`, `"cron"` for field expressions and croner's macros. */
  readonly kind: "cron" | "every";
  /** False when the expression needs `extendedSyntax`, so honker itself would refuse it. */
  readonly honkerCompatible: boolean;
  /**
   * The next fire strictly after `fromUnixS` by honker's algorithm, in unix seconds; the same
   * as the module function `nextFireAfter(expression, fromUnixS)`.
   */
  nextFireAfter(fromUnixS: number): number;
}

// Two generations: a hit costs one lookup, and the older half is dropped when the newer fills.
const CACHE_GENERATION_SIZE = 128;
let cacheNew = new Map<string, Schedule>();
let cacheOld = new Map<string, Schedule>();
// honker refuses instants chrono cannot represent (about ±262,000 years); a round bound inside.
const FROM_LIMIT_S = 8e12;

function describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

function parseError(expr: string, failure: ParseFailure, extended: boolean): Error {
  const hint = failure.looksExtended && !extended ? ` (${EXTENDED_HINT})` : "";
  const message = `Cannot parse schedule ${JSON.stringify(expr)}: ${failure.reason}${hint}`;
  return failure.kind === "range" ? new RangeError(message) : new TypeError(message);
}

function requireFrom(expr: string, fromUnixS: unknown): number {
  if (typeof fromUnixS === "number" && Number.isSafeInteger(fromUnixS)) return fromUnixS;
  throw new TypeError(
    `Cannot compute the next fire of schedule ${JSON.stringify(expr)}: ` +
      `fromUnixS must be whole unix seconds, got ${describe(fromUnixS)}`,
  );
}

class EverySchedule implements Schedule {
  readonly expression: string;
  readonly kind = "every" as const;
  readonly honkerCompatible = true;
  readonly #intervalS: bigint;

  constructor(expression: string, intervalS: bigint) {
    this.expression = expression;
    this.#intervalS = intervalS;
  }

  nextFireAfter(fromUnixS: number): number {
    // honker adds in plain 64-bit arithmetic, whatever the time zone.
    const next = BigInt(requireFrom(this.expression, fromUnixS)) + this.#intervalS;
    if (next <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(next);
    throw new RangeError(
      `Cannot compute the next fire of schedule ${JSON.stringify(this.expression)}: ` +
        `${next} is beyond the unix seconds a number holds exactly`,
    );
  }
}

class CronSchedule implements Schedule {
  readonly expression: string;
  readonly kind = "cron" as const;
  readonly honkerCompatible: boolean;
  readonly #search: NaiveSearch;

  constructor(expression: string, honkerCompatible: boolean, search: NaiveSearch) {
    this.expression = expression;
    this.honkerCompatible = honkerCompatible;
    this.#search = search;
  }

  nextFireAfter(fromUnixS: number): number {
    const action = `Cannot compute the next fire of schedule ${JSON.stringify(this.expression)}`;
    if (Math.abs(requireFrom(this.expression, fromUnixS)) > FROM_LIMIT_S) {
      throw new RangeError(`${action}: fromUnixS ${fromUnixS} is outside ±${FROM_LIMIT_S}`);
    }
    const fromNaiveS = toNaive(fromUnixS);
    const naiveS = this.#search(fromNaiveS);
    if (naiveS !== undefined) return fromNaive(naiveS);
    throw new RangeError(
      `${action}: no time matches within 100 years after ${formatNaive(fromNaiveS)} local time`,
    );
  }
}

function honkerSearch(sets: CronSets): NaiveSearch {
  return (fromNaiveS) => searchNaive(sets, fromNaiveS);
}

// Each field honker can read becomes its explicit value list, so it keeps honker's meaning;
// croner reads the others. Macros other than @every go to croner whole.
function compileExtended(expr: string, honkerFailure: ParseFailure): Schedule {
  const trimmed = rustTrim(expr);
  let pattern = trimmed;
  if (trimmed.startsWith("@every")) throw parseError(expr, honkerFailure, true);
  if (!trimmed.startsWith("@")) {
    const fields = rustFields(trimmed);
    if (fields.length !== 5 && fields.length !== 6) {
      throw parseError(expr, fieldCountError(fields.length, trimmed), true);
    }
    const parsed = parseCronFields(fields);
    // A bare `*` stays: croner takes faster paths for it, and it means the same to both.
    const text = (p: FieldSet | ParseFailure, i: number) =>
      p instanceof ParseFailure || fields[i] === "*" ? fields[i] : listOf(p);
    pattern = parsed.map(text).join(" ");
  }
  try {
    return new CronSchedule(expr, false, cronerSearch(pattern));
  } catch (error) {
    const croner = (error as Error).message.replace(/^CronPattern: /, "").replace(/\.$/, "");
    const reason = `${honkerFailure.reason}, and croner refuses it too: ${croner}`;
    throw parseError(expr, new ParseFailure(honkerFailure.kind, reason), true);
  }
}

function compile(expr: string, extended: boolean): Schedule {
  const parsed = parseHonker(expr);
  if (parsed instanceof ParseFailure) {
    if (extended) return compileExtended(expr, parsed);
    throw parseError(expr, parsed, false);
  }
  return parsed.kind === "every"
    ? new EverySchedule(expr, parsed.intervalS)
    : new CronSchedule(expr, true, honkerSearch(parsed.sets));
}

/**
 * Parses a schedule expression once for many `nextFireAfter()` calls. Recently parsed
 * expressions are cached (the last 128 to 256), so calling this in a loop costs a map lookup.
 *
 * honker's grammar: `@every <n><s|m|h|d>`, or 5 fields `min hour dom month dow`
 * (seconds fixed at 0) or 6 fields `sec min hour dom month dow`, each a comma list of `*`, `a`
 * or `a-b`, optionally `/step`; `a/step` means only `a`; Sunday is 0 and 7 is refused; a day
 * must match day-of-month AND day-of-week. Whether the expression ever fires is not checked
 * here: `0 0 31 2 *` parses, and its `nextFireAfter()` throws.
 *
 * @param expr The expression, as stored in `_honker_scheduler_tasks.cron_expr`.
 * @param options `extendedSyntax` to accept croner's additions.
 * @returns The parsed schedule.
 * @throws {TypeError} If `expr` is not a string or is malformed; the message names the field.
 * @throws {RangeError} If a value, step or interval is out of range.
 *
 * @example Parse once, evaluate often
 * ```ts
 * import { parseSchedule } from "./cron.ts";
 * const weekdays = parseSchedule("0 9 * * 1-5");
 * const next = weekdays.nextFireAfter(Math.floor(Date.now() / 1000));
 * ```
 */
export function parseSchedule(expr: string, options?: ScheduleOptions): Schedule {
  if (typeof expr !== "string") {
    throw new TypeError(
      `Cannot parse schedule: the expression must be a string, got ${describe(expr)}`,
    );
  }
  const extended = requireOptions(options, `parse schedule ${JSON.stringify(expr)}`)
    .extendedSyntax === true;
  const key = (extended ? "x:" : "h:") + expr;
  const hit = cacheNew.get(key);
  if (hit !== undefined) return hit;
  const schedule = cacheOld.get(key) ?? compile(expr, extended);
  if (cacheNew.size >= CACHE_GENERATION_SIZE) {
    cacheOld = cacheNew;
    cacheNew = new Map();
  }
  cacheNew.set(key, schedule);
  return schedule;
}

/**
 * The next fire of a schedule strictly after `fromUnixS`, in unix seconds: what honker's
 * `honker_cron_next_after(expr, from_unix)` returns. Pure: no I/O, reads only the clock rules
 * of the system time zone (`TZ`). For cron fields the search runs on local date-times, then:
 * - a result in the repeated hour of a fall-back is its LATER instant, as in honker (chrono
 *   lists the smaller UTC offset first), so the first copy of that hour never fires: `30 1 * * *`
 *   fires at 01:30 EST on New York's fall-back day, and `* * * * *` jumps from 00:59 EDT to
 *   01:00 EST;
 * - a result in a spring-forward gap becomes the first instant after the gap, whatever the
 *   fields say (03:00 EDT for 02:30 in New York; ECMAScript would say 03:30).
 *
 * The result is always strictly after `fromUnixS`. `@every` adds its interval in plain seconds.
 *
 * @param expr The schedule expression (see `parseSchedule()`).
 * @param fromUnixS Whole unix seconds.
 * @param options `extendedSyntax` to accept croner's additions.
 * @returns Unix seconds of the next fire.
 * @throws {TypeError} If `expr` is malformed or `fromUnixS` is not whole seconds.
 * @throws {RangeError} If a value is out of range, or no time matches within 100 years.
 *
 * @example Every five minutes
 * ```ts
 * import { nextFireAfter } from "./cron.ts";
 * nextFireAfter("*\/5 * * * *", 1_767_225_600); // 1_767_225_900 (+5 minutes)
 * ```
 */
export function nextFireAfter(expr: string, fromUnixS: number, options?: ScheduleOptions): number {
  return parseSchedule(expr, options).nextFireAfter(fromUnixS);
}
