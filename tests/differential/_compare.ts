/**
 * What the differential test compares after every step: each side's return value, converted to
 * the shape honker's SQL function returns, and the full contents of every `_honker_*` table (plus
 * `sqlite_sequence`, whose AUTOINCREMENT counters decide the next ids and offsets).
 *
 * The model of honker's known bugs that honker-ts deliberately does not copy lives here too:
 * a step whose op carries `bad` expects honker-ts to refuse it with that error class, before
 * writing anything. When the op also carries `skipExt`, honker would accept it, so its side is
 * not run (the table comparison then proves honker-ts wrote nothing); otherwise honker must
 * refuse it as well.
 *
 * @module
 */

import { HONKER_TABLE_COLUMNS } from "../_honker_ext.ts";
import type { Op } from "./_gen.ts";

/** A call that threw; `error` is the error class (honker-ts) or "honker: <message>". */
export class Refused {
  /** The error class name or message. */
  readonly error: string;
  constructor(error: string) {
    this.error = error;
  }
}

const ORDER: Record<string, string> = {
  _honker_rate_limits: '"name", "window_start"',
  _honker_stream_consumers: '"name", "topic"',
};

/**
 * One statement reading every honker table as JSON text, rows in primary-key order. json_array
 * keeps SQLite's storage classes apart (1, 1.0 and '1' print differently), so equal text means
 * equal files. The subquery ORDER BY is used rather than `json_group_array(… ORDER BY …)`, which
 * the system SQLite (3.40) behind the FFI adapters lacks. Each table's array is turned into plain
 * text (`|| ''`) before json_object sees it: SQLite versions differ in whether the JSON subtype
 * survives the scalar subquery (3.40 keeps it and nests the array, Bun's newer SQLite drops it
 * and nests a string), and the snapshot must read the same on every version.
 */
export const SNAPSHOT_SQL: string = "SELECT json_object(" + [
  ...Object.entries(HONKER_TABLE_COLUMNS).map(([table, columns]) => {
    const cols = columns.map((c) => `"${c}"`).join(", ");
    return `'${table}', (SELECT json_group_array(json_array(${cols})) || '' FROM ` +
      `(SELECT * FROM ${table} ORDER BY ${ORDER[table] ?? cols.split(",")[0]}))`;
  }),
  "'sqlite_sequence', (SELECT json_group_array(json_array(name, seq)) || '' FROM " +
  "(SELECT * FROM sqlite_sequence ORDER BY name))",
].join(", ") + ") AS s";

/** JSON with object keys sorted, so results built in different key orders compare equal. */
export function canon(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]]))
        : v,
  );
}

/** The result of an op on a job or lock handle that neither side has yet. */
export const NONE = "no handle";

/** Why the two results of one step disagree, or undefined when they agree under the model. */
export function resultProblem(op: Op, ours: unknown, theirs: unknown): string | undefined {
  const oursRefused = ours instanceof Refused;
  const theirsRefused = theirs instanceof Refused;
  if (ours === NONE && (theirs === NONE || op.skipExt)) return undefined;
  if (op.bad !== undefined) {
    if (!oursRefused) return `honker-ts accepted it; the model expects a ${op.bad}`;
    if (!op.bad.split("|").includes(ours.error)) {
      return `honker-ts threw ${ours.error}; the model expects a ${op.bad}`;
    }
    if (!op.skipExt && !theirsRefused) return "honker accepted it; the model expects a refusal";
    return undefined;
  }
  if (oursRefused || theirsRefused) {
    return oursRefused && theirsRefused ? undefined : "only one side threw";
  }
  return canon(ours) === canon(theirs) ? undefined : "the results differ";
}

/** Rows of `a` whose JSON is not among the rows of `b`. */
function missing(a: unknown[], b: unknown[]): string[] {
  const seen = new Set(b.map((row) => JSON.stringify(row)));
  return a.map((row) => JSON.stringify(row)).filter((row) => !seen.has(row));
}

/** A snapshot's tables as arrays of rows (each table is stored as JSON text). */
function tables(snapshot: string): Record<string, unknown[]> {
  const parsed = JSON.parse(snapshot) as Record<string, string>;
  return Object.fromEntries(Object.entries(parsed).map(([name, rows]) => [name, JSON.parse(rows)]));
}

/** The tables whose contents differ between two snapshots, with the differing rows. */
export function snapshotDiff(ours: string, theirs: string): string | undefined {
  if (ours === theirs) return undefined;
  const o = tables(ours);
  const t = tables(theirs);
  const lines: string[] = [];
  for (const table of Object.keys(t)) {
    if (JSON.stringify(o[table]) === JSON.stringify(t[table])) continue;
    lines.push(`  ${table}:`);
    for (const row of missing(o[table] ?? [], t[table])) lines.push(`    honker-ts only: ${row}`);
    for (const row of missing(t[table], o[table] ?? [])) lines.push(`    honker only:    ${row}`);
    if (lines.at(-1)?.endsWith(":")) lines.push("    same rows, different order");
  }
  return lines.join("\n");
}

/** A value in the printed report: Refused as `{ threw: … }`, the rest as JSON. */
export function show(value: unknown): string {
  return value instanceof Refused ? `{ threw: ${JSON.stringify(value.error)} }` : canon(value);
}
