/**
 * Argument checks shared by every public operation. Each throws a TypeError or RangeError whose
 * message starts with the failed action and names the argument, before anything is written.
 *
 * @module
 */

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (value === null || typeof value !== "object") return String(value);
  return Array.isArray(value) ? "an array" : "an object";
}

/** The longest duration accepted, 100 years: `unixepoch() + duration` must stay exact. */
export const DURATION_MAX_S = 3_155_760_000;
/** The largest count accepted (claims, limits, attempts, TTLs). */
export const COUNT_MAX = 2 ** 31 - 1;

/**
 * The longest timer delay every runtime honours: Node, Deno and Bun all fire a longer
 * `setTimeout`/`setInterval` after 1 ms instead (a 32-bit signed overflow), so a longer delay
 * would turn a slow timer into a busy one.
 */
export const TIMER_MAX_MS = 2 ** 31 - 1;

/**
 * A timer delay in milliseconds: a finite number, above zero (or ≥ 0 with `allowZero`), at most
 * TIMER_MAX_MS (about 24.8 days).
 */
export function requireTimerMs(
  value: unknown,
  what: string,
  action: string,
  allowZero = false,
): number {
  const rule = allowZero ? "a non-negative number" : "a positive number";
  if (
    typeof value !== "number" || !Number.isFinite(value) || value < 0 ||
    (value === 0 && !allowZero)
  ) {
    const error = typeof value === "number" ? RangeError : TypeError;
    throw new error(
      `Cannot ${action}: ${what} must be ${rule} of milliseconds, got ${show(value)}`,
    );
  }
  if (value > TIMER_MAX_MS) {
    throw new RangeError(
      `Cannot ${action}: ${what} must be at most ${TIMER_MAX_MS} ms (about 24.8 days), got ${value}`,
    );
  }
  return value;
}

/**
 * A timeout in milliseconds: 0 up to TIMER_MAX_MS, or `Infinity` for no timeout. A longer
 * finite timeout is refused, not clamped: it usually means seconds or a date were passed.
 */
export function requireTimeoutMs(value: unknown, what: string, action: string): number {
  if (value === Infinity) return value;
  if (typeof value !== "number" || !(value >= 0)) {
    const error = typeof value === "number" ? RangeError : TypeError;
    throw new error(
      `Cannot ${action}: ${what} must be a non-negative number of milliseconds or Infinity, ` +
        `got ${show(value)}`,
    );
  }
  if (value > TIMER_MAX_MS) {
    throw new RangeError(
      `Cannot ${action}: ${what} must be at most ${TIMER_MAX_MS} ms (about 24.8 days) or ` +
        `Infinity (no timeout), got ${value}`,
    );
  }
  return value;
}

/**
 * A non-empty string without NUL: queue names, worker ids, topics, channels. (node:sqlite reads
 * text back cut at a NUL, so such a name would not match itself.)
 */
export function requireName(value: unknown, what: string, action: string): string {
  if (typeof value !== "string") {
    throw new TypeError(`Cannot ${action}: ${what} must be a string, got ${show(value)}`);
  }
  if (value.length === 0) throw new TypeError(`Cannot ${action}: ${what} must not be empty`);
  if (value.includes("\u0000")) {
    throw new TypeError(`Cannot ${action}: ${what} must not contain a NUL character`);
  }
  return value;
}

/** A safe integer, optionally with a lower bound. */
export function requireInteger(value: unknown, what: string, action: string, min?: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new TypeError(`Cannot ${action}: ${what} must be an integer, got ${show(value)}`);
  }
  if (min !== undefined && value < min) {
    const rule = min === 0 ? "must not be negative" : `must be at least ${min}`;
    throw new RangeError(`Cannot ${action}: ${what} ${rule}, got ${value}`);
  }
  return value;
}

/** A count of things: an integer from 1 to COUNT_MAX. */
export function requireCount(value: unknown, what: string, action: string): number {
  const n = requireInteger(value, what, action, 1);
  if (n > COUNT_MAX) {
    throw new RangeError(`Cannot ${action}: ${what} must be at most ${COUNT_MAX}, got ${n}`);
  }
  return n;
}

/**
 * A duration in whole seconds ≥ 0. honker stores integer seconds and its SQL functions refuse
 * fractions, so a fractional duration is refused here too rather than silently truncated.
 */
export function requireSeconds(value: unknown, what: string, action: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new TypeError(`Cannot ${action}: ${what} must be a finite number, got ${show(value)}`);
  }
  if (!Number.isInteger(value)) {
    throw new RangeError(`Cannot ${action}: ${what} must be whole seconds, got ${value}`);
  }
  if (value < 0) {
    throw new RangeError(`Cannot ${action}: ${what} must not be negative, got ${value}`);
  }
  if (value > DURATION_MAX_S) {
    throw new RangeError(
      `Cannot ${action}: ${what} must be at most ${DURATION_MAX_S} (100 years), got ${value}`,
    );
  }
  return value;
}

/** A positive integer id of a row. */
export function requireId(value: unknown, what: string, action: string): number {
  return requireInteger(value, what, action, 1);
}

/**
 * The largest magnitude of unix seconds taken as seconds: 1e11 s is about the year 5138, and a
 * millisecond timestamp of any date after March 1973 is larger, so a larger number can only be
 * milliseconds (`Date.now() + …`) that would otherwise be stored as a date tens of millennia on.
 */
export const UNIX_SECONDS_MAX = 1e11;

/** An instant as a Date or whole unix seconds; returns unix seconds. */
export function requireInstant(value: unknown, what: string, action: string): number {
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) throw new RangeError(`Cannot ${action}: ${what} is an invalid Date`);
    return Math.floor(ms / 1000);
  }
  if (typeof value === "number" && Number.isSafeInteger(value)) {
    if (Math.abs(value) > UNIX_SECONDS_MAX) {
      throw new RangeError(
        `Cannot ${action}: ${what} must be whole unix seconds, got ${value}, which looks like ` +
          "milliseconds (pass a Date, or Math.floor(ms / 1000))",
      );
    }
    return value;
  }
  throw new TypeError(
    `Cannot ${action}: ${what} must be a Date or whole unix seconds, got ${show(value)}`,
  );
}

/** A string, possibly empty (error texts). */
export function requireText(value: unknown, what: string, action: string): string {
  if (typeof value !== "string") {
    throw new TypeError(`Cannot ${action}: ${what} must be a string, got ${show(value)}`);
  }
  return value;
}

/** Edit distance between two strings (insertions, deletions, substitutions). */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * The known key `key` was most likely meant to be, or undefined when none is close: a key that
 * differs only in case or in a unit suffix (`delay` for `delayS`), or within a third of its
 * length in edits.
 */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

/**
 * An options bag: undefined becomes `{}`, anything but a plain object is refused, and so is a
 * key that is not in `known`, named with the closest known key: a misspelt or foreign option
 * (BullMQ's `delay` for `delayS`) must not be ignored silently.
 *
 * @param value The options the caller gave.
 * @param action What was being attempted, for the message (`enqueue to queue "emails"`).
 * @param known Every option the call accepts. (Optional only until every caller passes it.)
 * @returns The options, or `{}`.
 * @throws {TypeError} When `value` is not an object, or has an own key not in `known`.
 */
export function requireOptions<T extends object>(
  value: T | undefined,
  action: string,
  known?: readonly (keyof T & string)[],
): T {
  if (value === undefined) return {} as T;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(`Cannot ${action}: options must be an object, got ${show(value)}`);
  }
  if (known === undefined) return value;
  for (const key in value) {
    if (!Object.hasOwn(value, key) || (known as readonly string[]).includes(key)) continue;
    const closest = closestKey(key, known);
    const hint = closest === undefined
      ? `expected one of: ${known.join(", ")}`
      : `did you mean ${JSON.stringify(closest)}?`;
    throw new TypeError(`Cannot ${action}: unknown option ${JSON.stringify(key)} (${hint})`);
  }
  return value;
}
