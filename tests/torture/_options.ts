/**
 * The torture driver's command line, checked: rates, fault probabilities, the lockers' timing,
 * and the tuning every role is opened with (derived from the longest hold).
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { LockerConfig, RoleTuning } from "./_shared.ts";
import type { Role } from "./_fleet.ts";

/**
 * The jobs' visibility timeout while no hold is longer than HOLD_MAX_DEFAULT_S: a claim cannot
 * be renewed while another process holds the write lock, so it must outlive the hold.
 */
export const VISIBILITY_TIMEOUT_DEFAULT_S = 10;
/** The busy timeout every role opens the file with: longer than the longest hold, as an app's. */
export const BUSY_TIMEOUT_DEFAULT_MS = 10_000;
/** The longest write-lock hold of a locker, by default. */
export const HOLD_MAX_DEFAULT_S = 6;
/** What a claim or a call outlasts the longest hold by: a busy machine's margin. */
export const HOLD_MARGIN_S = 4;

/** The roles the driver SIGKILLs at random (producers are never killed: they are the record). */
export type KillableRole = Exclude<Role, "producer">;

/** The run's settings. */
export interface TortureOptions {
  seconds: number;
  jobRate: number;
  /** Jobs per producer per second into the batch workers' queue. */
  batchJobRate: number;
  eventRate: number;
  /** Per process per second, by role. */
  killProbability: Record<KillableRole, number>;
  /** Kills of each role forced from mid-run on when the dice did not kill that many. */
  minKills: number;
  eventThrowProbability: number;
  /** Per returned batch handler: the batch worker SIGKILLs itself before the flush. */
  selfKillProbability: number;
  lockers: number;
  locker: Omit<LockerConfig, keyof RoleTuning>;
  tuning: RoleTuning;
  sampleEveryS: number;
  drainTimeoutS: number;
  db: string | undefined;
  samplesCsv: string | undefined;
  keep: boolean;
  strict: boolean;
}

const OPTIONS = {
  "seconds": { type: "string", default: "60" },
  "job-rate": { type: "string", default: "30" },
  "batch-job-rate": { type: "string", default: "30" },
  "event-rate": { type: "string", default: "10" },
  "kill-probability": { type: "string", default: "0.01" },
  "subscriber-kill-probability": { type: "string", default: "0.01" },
  "scheduler-kill-probability": { type: "string", default: "0.01" },
  "locker-kill-probability": { type: "string", default: "0.01" },
  "min-kills": { type: "string", default: "1" },
  "event-throw-probability": { type: "string", default: "0.03" },
  "self-kill-probability": { type: "string", default: "0.002" },
  "lockers": { type: "string", default: "1" },
  "hold-min-s": { type: "string", default: "1" },
  "hold-max-s": { type: "string", default: String(HOLD_MAX_DEFAULT_S) },
  "hold-gap-min-s": { type: "string", default: "2" },
  "hold-gap-max-s": { type: "string", default: "8" },
  "sample-every": { type: "string", default: "5" },
  "drain-timeout": { type: "string", default: "90" },
  "db": { type: "string" },
  "samples-csv": { type: "string" },
  "keep": { type: "boolean", default: false },
  "strict": { type: "boolean", default: false },
} as const;

/** Parses and checks `argv`; a bad value throws a RangeError naming the option. */
export function parseOptions(argv: string[]): TortureOptions {
  const { values } = parseArgs({ args: argv, options: OPTIONS });
  const num = (name: keyof typeof OPTIONS, min: number, max = Infinity): number => {
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n < min || n > max) {
      throw new RangeError(
        `Cannot start the torture run: --${name} must be a number from ${min} to ${max}, ` +
          `got ${JSON.stringify(values[name])}`,
      );
    }
    return n;
  };
  const probability = (name: keyof typeof OPTIONS) => num(name, 0, 1);
  const holdMinS = num("hold-min-s", 0);
  const holdMaxS = num("hold-max-s", holdMinS);
  const gapMinS = num("hold-gap-min-s", 0);
  // A claim must outlive the longest hold (it cannot be renewed meanwhile), and an
  // application's call must wait it out: both get the hold plus a margin.
  const visibilityTimeoutS = Math.max(
    VISIBILITY_TIMEOUT_DEFAULT_S,
    Math.ceil(holdMaxS + HOLD_MARGIN_S),
  );
  return {
    // The batch check counts each job's `completed` event: the run must end well within the
    // events' retention (a day by default), or old events could be gone by the check.
    seconds: num("seconds", 1, 43_200),
    jobRate: num("job-rate", 0),
    batchJobRate: num("batch-job-rate", 0),
    eventRate: num("event-rate", 0),
    killProbability: {
      worker: probability("kill-probability"),
      batch_worker: probability("kill-probability"),
      subscriber: probability("subscriber-kill-probability"),
      scheduler: probability("scheduler-kill-probability"),
      locker: probability("locker-kill-probability"),
    },
    minKills: Math.floor(num("min-kills", 0)),
    eventThrowProbability: num("event-throw-probability", 0, 0.5),
    selfKillProbability: num("self-kill-probability", 0, 0.1),
    lockers: Math.floor(num("lockers", 0, 3)),
    locker: { gapMinS, gapMaxS: num("hold-gap-max-s", gapMinS), holdMinS, holdMaxS },
    tuning: {
      busyTimeoutMs: Math.max(BUSY_TIMEOUT_DEFAULT_MS, visibilityTimeoutS * 1000),
      visibilityTimeoutS,
    },
    sampleEveryS: num("sample-every", 1),
    drainTimeoutS: num("drain-timeout", 1),
    db: values.db,
    samplesCsv: values["samples-csv"],
    keep: values.keep,
    strict: values.strict,
  };
}
