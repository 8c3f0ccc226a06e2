/**
 * honker's schedule grammar (honker-core/src/cron.rs), reproduced character for
 * character so that every expression honker-ts stores can be ticked by a honker leader and every
 * expression honker refuses is refused here too.
 *
 * @module
 */

/** One cron field: its name in messages and honker's inclusive bounds. */
export interface FieldSpec {
  readonly name: string;
  readonly lo: number;
  readonly hi: number;
}

/** The six fields of a 6-field expression, in order. A 5-field one lacks the first. */
export const FIELDS: readonly FieldSpec[] = [
  { name: "second", lo: 0, hi: 59 },
  { name: "minute", lo: 0, hi: 59 },
  { name: "hour", lo: 0, hi: 23 },
  { name: "day-of-month", lo: 1, hi: 31 },
  { name: "month", lo: 1, hi: 12 },
  { name: "day-of-week", lo: 0, hi: 6 },
];

/**
 * A field's allowed values as a lookup: `next[v]` is the smallest allowed value ≥ v, or -1.
 * Membership is `next[v] === v`; honker's `next_or_first` is `next[v]`, else `first`.
 */
export interface FieldSet {
  readonly next: Int8Array;
  readonly first: number;
}

/** The sets of a honker cron expression, seconds first (`[0]` for a 5-field one). */
export type CronSets = readonly [FieldSet, FieldSet, FieldSet, FieldSet, FieldSet, FieldSet];

/** What honker's grammar makes of an expression. */
export type HonkerExpr =
  | { readonly kind: "every"; readonly intervalS: bigint }
  | { readonly kind: "cron"; readonly sets: CronSets; readonly lists: readonly string[] };

/** i64::MAX: honker computes intervals and `from + interval` in 64-bit integers. */
export const I64_MAX = 9223372036854775807n;

// Rust's `char::is_whitespace` (Unicode White_Space), which `trim` and `split_whitespace` use.
// Unlike JavaScript's `\s` it includes U+0085 and excludes U+FEFF.
const RUST_WS =
  "\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const WS_RUN = new RegExp(`[${RUST_WS}]+`, "u");
const WS_EDGES = new RegExp(`^[${RUST_WS}]+|[${RUST_WS}]+$`, "gu");
// Rust's `u32::from_str`: an optional `+`, then ASCII digits (leading zeros allowed).
const RUST_U32 = /^\+?[0-9]+$/;
const U32_MAX = 4294967295;
const LETTERS = /[A-Za-z?#]/;
/** Appended to failures that look like croner syntax when `extendedSyntax` is off. */
export const EXTENDED_HINT =
  "names, L, W, #, ? and macros such as @daily need { extendedSyntax: true }, for honker-ts only";

/** Rust's `str::trim`. */
export function rustTrim(text: string): string {
  return text.replace(WS_EDGES, "");
}

/** Rust's `str::split_whitespace` on text that is already trimmed. */
export function rustFields(trimmed: string): string[] {
  return trimmed === "" ? [] : trimmed.split(WS_RUN);
}

/** A parse failure: the class (TypeError or RangeError) and the reason, without the prefix. */
export class ParseFailure {
  /** The error class the public API throws for this failure. */
  readonly kind: "type" | "range";
  /** The reason, to follow `Cannot parse schedule "…": `. */
  readonly reason: string;
  /** True when the text looks like croner syntax, worth a hint about `extendedSyntax`. */
  readonly looksExtended: boolean;
  constructor(kind: "type" | "range", reason: string, looksExtended = false) {
    this.kind = kind;
    this.reason = reason;
    this.looksExtended = looksExtended;
  }
}

function parseU32(text: string): number | undefined {
  if (!RUST_U32.test(text)) return undefined;
  const value = Number(text);
  return value <= U32_MAX ? value : undefined;
}

function notInteger(spec: FieldSpec, item: string): ParseFailure {
  const reason = `${spec.name} field "${item}" is not an integer`;
  return new ParseFailure("type", reason, LETTERS.test(item));
}

/** One comma-separated item: `*`, `a` or `a-b`, optionally `/step`. Returns [start, end, step]. */
function parseItem(spec: FieldSpec, item: string): [number, number, number] | ParseFailure {
  const slash = item.indexOf("/");
  let range = item;
  let step = 1;
  if (slash >= 0) {
    range = item.slice(0, slash);
    const parsed = parseU32(item.slice(slash + 1));
    if (parsed === undefined || parsed === 0) {
      const kind = parsed === 0 ? "range" : "type";
      return new ParseFailure(
        kind,
        `${spec.name} field step in "${item}" must be a positive integer`,
      );
    }
    step = parsed;
  }
  if (range === "*") return [spec.lo, spec.hi, step];
  const dash = range.indexOf("-");
  const a = parseU32(dash >= 0 ? range.slice(0, dash) : range);
  const b = dash >= 0 ? parseU32(range.slice(dash + 1)) : a;
  if (a === undefined || b === undefined) return notInteger(spec, item);
  if (Math.min(a, b) < spec.lo || Math.max(a, b) > spec.hi) {
    const sunday = spec.name === "day-of-week" && (a === 7 || b === 7) ? " (Sunday is 0)" : "";
    return new ParseFailure(
      "range",
      `${spec.name} field "${item}" is out of range ${spec.lo}–${spec.hi}${sunday}`,
    );
  }
  if (a > b) {
    return new ParseFailure("range", `${spec.name} field "${item}" is an inverted range`);
  }
  // honker's rule: a step on a single value (`5/15`) keeps only that value.
  return [a, b, step];
}

/** Parses one field into its value set, or the first failure (honker reports the first too). */
export function parseField(spec: FieldSpec, field: string): FieldSet | ParseFailure {
  const member = new Uint8Array(spec.hi + 1);
  for (const item of field.split(",")) {
    const parsed = parseItem(spec, item);
    if (parsed instanceof ParseFailure) return parsed;
    const [start, end, step] = parsed;
    for (let v = start; v <= end; v += step) member[v] = 1;
  }
  const next = new Int8Array(spec.hi + 2).fill(-1);
  for (let v = spec.hi; v >= 0; v--) next[v] = member[v] ? v : next[v + 1];
  return { next, first: next[0] };
}

/** The explicit list of a set's values, for handing a field to croner unambiguously. */
export function listOf(set: FieldSet): string {
  const values: number[] = [];
  for (let v = 0; v < set.next.length - 1; v++) if (set.next[v] === v) values.push(v);
  return values.join(",");
}

const UNIT_S = new Map([["s", 1n], ["m", 60n], ["h", 3600n], ["d", 86400n]]);

/** honker's `parse_every_interval`: `<digits><unit>`, the unit one of s, m, h, d. */
export function parseEvery(body: string): bigint | ParseFailure {
  const shape = `expected "@every <n><unit>" with a unit of s, m, h or d`;
  if (body === "") return new ParseFailure("type", shape);
  const digits = /^[0-9]*/.exec(body)![0].length;
  if (digits === 0 || digits === body.length) {
    return new ParseFailure("type", `${shape}, got "${body}"`);
  }
  const count = BigInt(body.slice(0, digits));
  if (count > I64_MAX) return new ParseFailure("range", `interval count "${body}" is too large`);
  if (count === 0n) {
    return new ParseFailure("range", `interval count must be positive, got "${body}"`);
  }
  const unit = body.slice(digits);
  const unitS = UNIT_S.get(unit);
  if (unitS === undefined) {
    return new ParseFailure("type", `interval unit "${unit}" is not one of s, m, h, d`);
  }
  const intervalS = count * unitS;
  if (intervalS > I64_MAX) return new ParseFailure("range", `interval "${body}" is too large`);
  return intervalS;
}

/**
 * Parses with honker's grammar. `fields` are honker's own whitespace-split fields; the result is
 * the sets, or for each field either its set or its failure (so extended syntax can take over
 * field by field).
 */
export function parseCronFields(fields: readonly string[]): Array<FieldSet | ParseFailure> {
  const specs = fields.length === 5 ? FIELDS.slice(1) : FIELDS;
  return fields.map((field, i) => parseField(specs[i], field));
}

/** honker's `ScheduleExpr::parse`, or its first failure. */
export function parseHonker(expr: string): HonkerExpr | ParseFailure {
  const trimmed = rustTrim(expr);
  if (trimmed.startsWith("@every")) {
    const intervalS = parseEvery(rustTrim(trimmed.slice(6)));
    return typeof intervalS === "bigint" ? { kind: "every", intervalS } : intervalS;
  }
  const fields = rustFields(trimmed);
  if (fields.length !== 5 && fields.length !== 6) return fieldCountError(fields.length, trimmed);
  const parsed = parseCronFields(fields);
  const failure = parsed.find((p) => p instanceof ParseFailure);
  if (failure instanceof ParseFailure) return failure;
  const sets = parsed as FieldSet[];
  if (sets.length === 5) sets.unshift(SECOND_ZERO);
  return { kind: "cron", sets: sets as unknown as CronSets, lists: sets.map(listOf) };
}

/** The failure for a wrong number of fields; `@daily` and friends get a hint. */
export function fieldCountError(count: number, trimmed: string): ParseFailure {
  const fields = `${count} field${count === 1 ? "" : "s"}`;
  return new ParseFailure(
    "type",
    `expected 5 or 6 cron fields or "@every <n><unit>", got ${fields}`,
    trimmed.startsWith("@"),
  );
}

const SECOND_ZERO = parseField(FIELDS[0], "0") as FieldSet;
