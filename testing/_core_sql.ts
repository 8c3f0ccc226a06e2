/**
 * Every SQL statement honker-ts's core sends, read from the modules that hold them, and a
 * reader of the parameters a statement's text uses. Private to `testing/`; the core's own test
 * checks that this list misses no module of `core/`.
 *
 * @module
 */

import * as lockSql from "../core/lock/sql.ts";
import * as maintenanceSql from "../core/maintenance/sql.ts";
import * as notifySql from "../core/notify/sql.ts";
import * as queueSql from "../core/queue/sql.ts";
import * as queueClaimSql from "../core/queue/claim_sql.ts";
import * as queueControlsSql from "../core/queue/controls_sql.ts";
import * as queueJobKeysSql from "../core/queue/job_keys_sql.ts";
import * as queueJobOptionsSql from "../core/queue/job_options_sql.ts";
import * as queueSettingsSql from "../core/queue/settings_sql.ts";
import * as schedulerTaskKeys from "../core/scheduler/task_keys.ts";
import * as queueEventsSql from "../core/queue/events_sql.ts";
import * as rateLimitSql from "../core/rate_limit/sql.ts";
import * as schedulerSql from "../core/scheduler/sql.ts";
import * as schemaFeatures from "../core/schema/features.ts";
import * as schemaFormat from "../core/schema/format.ts";
import * as schemaSql from "../core/schema/sql.ts";
import * as streamSql from "../core/stream/sql.ts";

/** The core's modules that export SQL, by path below core/. */
export const CORE_SQL_MODULES: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  "lock/sql.ts": lockSql,
  "maintenance/sql.ts": maintenanceSql,
  "notify/sql.ts": notifySql,
  "queue/claim_sql.ts": queueClaimSql,
  "queue/controls_sql.ts": queueControlsSql,
  "queue/job_keys_sql.ts": queueJobKeysSql,
  "queue/job_options_sql.ts": queueJobOptionsSql,
  "queue/events_sql.ts": queueEventsSql,
  "queue/settings_sql.ts": queueSettingsSql,
  "queue/sql.ts": queueSql,
  "rate_limit/sql.ts": rateLimitSql,
  "scheduler/sql.ts": schedulerSql,
  "scheduler/task_keys.ts": schedulerTaskKeys,
  "schema/features.ts": schemaFeatures,
  "schema/format.ts": schemaFormat,
  "schema/sql.ts": schemaSql,
  "stream/sql.ts": streamSql,
};

/** One SQL text the core sends, named by where it is exported. */
export interface CoreStatement {
  /** `module.EXPORT`, with the property path for SQL inside an exported object or array. */
  readonly name: string;
  /** The SQL text. */
  readonly sql: string;
}

const SQL_START =
  /^\s*(SELECT|INSERT|UPDATE|DELETE|REPLACE|WITH|CREATE|DROP|ALTER|PRAGMA|BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE)\b/i;

/** Whether a string is SQL (rather than a table name or a lock name). */
export function isSql(text: string): boolean {
  return SQL_START.test(text);
}

/** The SQL strings in an exported value, looking into objects and arrays. */
function collect(value: unknown, name: string, out: CoreStatement[]): void {
  if (typeof value === "string") {
    if (isSql(value)) out.push({ name, sql: value });
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => collect(item, `${name}[${i}]`, out));
  } else if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) collect(item, `${name}.${key}`, out);
  }
}

/** Every SQL string a module exports. */
export function sqlExports(
  module: string,
  exports: Readonly<Record<string, unknown>>,
): CoreStatement[] {
  const out: CoreStatement[] = [];
  for (const [key, value] of Object.entries(exports)) collect(value, `${module}.${key}`, out);
  return out;
}

/** Every SQL string the core's SQL modules export. */
export function coreStatements(): CoreStatement[] {
  return Object.entries(CORE_SQL_MODULES).flatMap(([module, exports]) =>
    sqlExports(module, exports)
  );
}

/** The parameters a statement's text uses. */
export interface SqlParameters {
  /** How many plain `?` it has: the values it must be given. */
  readonly positional: number;
  /** Parameters of any other form (`?1`, `:name`, `@name`, `$name`), as written. */
  readonly other: readonly string[];
}

/**
 * SQL's literals, quoted identifiers and comments, which may hold `?`, `:` or `$` that are no
 * parameters: `'…'` (with `''`), `"…"`, `` `…` ``, `[…]`, `-- …` and `/* … *\/`.
 */
const NOT_CODE =
  /'(?:[^']|'')*'|"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\]|--[^\n]*|\/\*[\s\S]*?\*\//g;

/** A parameter token: `?`, `?NNN`, or a name after `:`, `@` or `$`. */
const PARAMETER = /\?\d*|(?<![\w$])[:@$][A-Za-z_][\w]*/g;

/** Reads the parameters of `sql`, outside its literals, quoted identifiers and comments. */
export function sqlParameters(sql: string): SqlParameters {
  const code = sql.replace(NOT_CODE, " ");
  let positional = 0;
  const other: string[] = [];
  for (const [token] of code.matchAll(PARAMETER)) {
    if (token === "?") positional++;
    else other.push(token);
  }
  return { positional, other };
}

/** Whether `sql` holds more than one statement (run by `exec()`, which takes no parameters). */
export function isMultiStatement(sql: string): boolean {
  return /;\s*\S/.test(sql.replace(NOT_CODE, " "));
}
