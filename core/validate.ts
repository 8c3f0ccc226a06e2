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

/** An instant as a Date or whole unix seconds; returns unix seconds. */
export function requireInstant(value: unknown, what: string, action: string): number {
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) throw new RangeError(`Cannot ${action}: ${what} is an invalid Date`);
    return Math.floor(ms / 1000);
  }
  if (typeof value === "number" && Number.isSafeInteger(value)) return value;
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

/** An options bag: undefined becomes `{}`, anything but a plain object is refused. */
export function requireOptions<T extends object>(value: T | undefined, action: string): T {
  if (value === undefined) return {} as T;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(`Cannot ${action}: options must be an object, got ${show(value)}`);
  }
  return value;
}
