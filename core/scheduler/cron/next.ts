/**
 * honker's next-fire algorithm (honker-core/src/cron.rs): a forward search
 * over naive local date-times, then the naive result mapped back to an instant in the system
 * time zone with the rules honker's chrono actually applies (the later instant when ambiguous;
 * the first valid instant after a spring-forward gap). Naive date-times are counted in seconds
 * as if the local calendar were UTC.
 *
 * @module
 */

import { Cron } from "croner";
import type { CronSets } from "./parse.ts";

const DAY_S = 86400;

/** Days since 1970-01-01 of a proleptic Gregorian date (month 1–12). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * ((month + 9) % 12) + 2) / 5) + day - 1;
  return era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468;
}

/** The [year, month 1–12, day] of a count of days since 1970-01-01. */
export function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (month <= 2 ? 1 : 0), month, doy - Math.floor((153 * mp + 2) / 5) + 1];
}

/** The year of a naive date-time. */
export function naiveYear(naiveS: number): number {
  return civilFromDays(Math.floor(naiveS / DAY_S))[0];
}

/** `2026-04-19T08:00:00`, as chrono prints a naive date-time. */
export function formatNaive(naiveS: number): string {
  const days = Math.floor(naiveS / DAY_S);
  const [y, m, d] = civilFromDays(days);
  const time = new Date((naiveS - days * DAY_S) * 1000).toISOString().slice(11, 19);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${String(y).padStart(4, "0")}-${pad(m)}-${pad(d)}T${time}`;
}

/**
 * The system zone's offset in seconds at an instant. Read from the local calendar fields rather
 * than `getTimezoneOffset()`, which rounds historical offsets such as New York's −4:56:02 LMT.
 */
export function offsetAt(unixS: number): number {
  const date = new Date(unixS * 1000);
  const days = daysFromCivil(date.getFullYear(), date.getMonth() + 1, date.getDate());
  const local = days * DAY_S + date.getHours() * 3600 + date.getMinutes() * 60 + date.getSeconds();
  return local - unixS;
}

/** The naive local date-time of an instant (chrono's `naive_local`). */
export function toNaive(unixS: number): number {
  return unixS + offsetAt(unixS);
}

/** The latest instant whose local date-time is `naiveS`, or undefined in a gap. */
function resolveNaive(naiveS: number, offsets: Iterable<number>): number | undefined {
  let best: number | undefined;
  for (const offset of offsets) {
    const unixS = naiveS - offset;
    if ((best === undefined || unixS > best) && offsetAt(unixS) === offset) best = unixS;
  }
  return best;
}

/**
 * chrono's `from_local_datetime` as honker uses it: a unique instant; in the repeated hour of a
 * fall-back, the LATER of the two instants (honker takes the "earliest" of chrono's `Ambiguous`
 * pair, but chrono's `Local` puts the smaller UTC offset first: chronotope/chrono#1625); and in
 * a gap the instant of the first naive second after `naiveS` that exists (honker adds 1 s until
 * one does), whatever the fields say. Neither is ECMAScript's rule, which takes the earlier instant and
 * moves 02:30 in a one-hour gap to 03:30.
 */
export function fromNaive(naiveS: number): number {
  const before = offsetAt(naiveS - DAY_S);
  const after = offsetAt(naiveS + DAY_S);
  if (before === after && offsetAt(naiveS - before) === before) return naiveS - before;
  const offsets = new Set([before, after, offsetAt(naiveS - before), offsetAt(naiveS - after)]);
  const found = resolveNaive(naiveS, offsets);
  if (found !== undefined) return found;
  // In the gap: the transition instant is the first whose naive time reaches naiveS.
  let lo = naiveS - Math.max(...offsets);
  let hi = naiveS - Math.min(...offsets);
  if (toNaive(lo) < naiveS && toNaive(hi) >= naiveS) {
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (toNaive(mid) >= naiveS) hi = mid;
      else lo = mid;
    }
    return hi;
  }
  // Zones with transitions closer than a day apart: honker's own walk, second by second.
  for (let naive = naiveS + 1; naive <= naiveS + 2 * DAY_S; naive++) {
    const offsetsNear = new Set([offsetAt(naive - DAY_S), offsetAt(naive + DAY_S)]);
    const unixS = resolveNaive(naive, offsetsNear);
    if (unixS !== undefined) return unixS;
  }
  throw new RangeError(`Cannot map local time ${formatNaive(naiveS)} to an instant`);
}

function nextOrFirst(set: CronSets[number], value: number): [number, boolean] {
  const next = set.next[value];
  return next >= 0 ? [next, false] : [set.first, true];
}

/**
 * honker's `cron_next_after_naive`: the first naive date-time strictly after `fromNaiveS` that
 * every field accepts (day-of-month AND day-of-week), or undefined when the search passes
 * 100 years after the year of `fromNaiveS + 1`.
 */
export function searchNaive(sets: CronSets, fromNaiveS: number): number | undefined {
  const [seconds, minutes, hours, doms, months, dows] = sets;
  let cand = fromNaiveS + 1;
  const capYear = naiveYear(cand) + 100;
  for (;;) {
    const days = Math.floor(cand / DAY_S);
    const [year, month, day] = civilFromDays(days);
    if (year > capYear) return undefined;
    if (months.next[month] !== month) {
      const [nextMonth, wrapped] = nextOrFirst(months, month);
      cand = daysFromCivil(wrapped ? year + 1 : year, nextMonth, 1) * DAY_S;
      continue;
    }
    const dow = ((days % 7) + 11) % 7; // 1970-01-01 was a Thursday (4); Sunday = 0
    if (doms.next[day] !== day || dows.next[dow] !== dow) {
      cand = (days + 1) * DAY_S;
      continue;
    }
    const secOfDay = cand - days * DAY_S;
    const hour = Math.floor(secOfDay / 3600);
    if (hours.next[hour] !== hour) {
      const [nextHour, wrapped] = nextOrFirst(hours, hour);
      cand = (wrapped ? days + 1 : days) * DAY_S + nextHour * 3600;
      continue;
    }
    const minute = Math.floor(secOfDay / 60) % 60;
    if (minutes.next[minute] !== minute) {
      const [nextMinute, wrapped] = nextOrFirst(minutes, minute);
      cand = days * DAY_S + (wrapped ? hour + 1 : hour) * 3600 + nextMinute * 60;
      continue;
    }
    const second = secOfDay % 60;
    if (seconds.next[second] !== second) {
      const [nextSecond, wrapped] = nextOrFirst(seconds, second);
      cand = cand - second + (wrapped ? 60 : 0) + nextSecond;
      continue;
    }
    return cand;
  }
}

/**
 * The first naive date-time strictly after `fromNaiveS` that a schedule accepts, or undefined
 * when there is none within honker's 100 years.
 */
export type NaiveSearch = (fromNaiveS: number) => number | undefined;

/**
 * Compiles a croner pattern into a naive search. croner runs at UTC offset 0 on naive times, so
 * its own DST rules never apply and the result maps back to an instant by honker's rules like
 * any other; day-of-month and day-of-week are ANDed as in honker. Throws croner's error.
 */
export function cronerSearch(pattern: string): NaiveSearch {
  const job = new Cron(pattern, { utcOffset: 0, domAndDow: true, mode: "5-or-6-parts" });
  return (fromNaiveS) => {
    // nextRun() is strictly after its argument, like honker's search from `from + 1 s`.
    const next = job.nextRun(new Date(fromNaiveS * 1000));
    if (next === null) return undefined;
    const naiveS = next.getTime() / 1000;
    return naiveYear(naiveS) > naiveYear(fromNaiveS + 1) + 100 ? undefined : naiveS;
  };
}
