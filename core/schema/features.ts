/**
 * honker-ts's own tables, indexes and triggers, one entry per feature, run by every bootstrap
 * after honker's schema. Everything here is named `_honker_ts_*` and created `IF NOT EXISTS`;
 * honker's tables keep their meaning. A trigger on one of honker's tables fires for honker's
 * own writes too, which is how a feature keeps its invariant when a honker process shares the
 * file.
 *
 * @module
 */

import { QUEUE_SETTINGS_DDL } from "../queue/settings_sql.ts";
import { JOB_KEYS_DDL } from "../queue/job_keys_sql.ts";
import { TASK_KEYS_DDL } from "../scheduler/task_keys.ts";
import { JOB_OPTIONS_DDL } from "../queue/job_options_sql.ts";
import { JOB_EVENTS_DDL } from "../queue/events_sql.ts";

/** The DDL of each honker-ts feature, in the order it runs (a trigger after its tables). */
export const SCHEMA_TS_FEATURES_DDL: readonly string[] = [
  QUEUE_SETTINGS_DDL,
  JOB_KEYS_DDL,
  TASK_KEYS_DDL,
  JOB_OPTIONS_DDL,
  JOB_EVENTS_DDL,
];
