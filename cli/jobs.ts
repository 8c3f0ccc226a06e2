/**
 * `jobs` (the jobs of one queue) and `dead` (the dead letters).
 *
 * @module
 */

import { EXIT_OK, JSON_FLAG, positiveInt, print, printJson, UsageError } from "./_cli.ts";
import type { Command, Values } from "./_cli.ts";
import { inspect, sqliteNow } from "./_file.ts";
import { oneLine, payloadText, relative, table } from "./_format.ts";
import { deadJobs, queueJobs } from "./_inspect.ts";
import type { DeadView, JobView, ListState } from "./_inspect.ts";

/** Rows listed when `--limit` is not given. */
export const LIMIT_DEFAULT = 50;

const STATES: ReadonlyArray<ListState> = ["processing", "pending", "scheduled", "dead"];

function limitOf(values: Values, command: string): number {
  return values.limit === undefined
    ? LIMIT_DEFAULT
    : positiveInt(String(values.limit), "--limit", command);
}

function statesOf(values: Values): ReadonlyArray<ListState> {
  if (values.state === undefined || values.state === "all") return STATES;
  const state = STATES.find((s) => s === values.state);
  if (!state) {
    throw new UsageError(
      "--state must be pending, scheduled, processing, dead or all, got " +
        JSON.stringify(values.state),
      "jobs",
    );
  }
  return [state];
}

function when(job: JobView, now: number): string {
  if (job.state === "dead") return relative(job.diedAt ?? now, now);
  if (job.state === "processing") return relative(job.claimExpiresAt ?? now, now);
  return relative(job.runAt, now);
}

function jobsTable(jobs: JobView[], now: number): string {
  const anyDead = jobs.some((job) => job.state === "dead");
  const columns = [
    { header: "ID", align: "right" as const },
    { header: "STATE" },
    { header: "PRI", align: "right" as const },
    { header: "TRIES", align: "right" as const },
    { header: "WHEN" },
    // The payload is what tells jobs apart; `dead` shows errors in full.
    { header: anyDead ? "WORKER/ERROR" : "WORKER", shrink: 2, min: 16 },
    { header: "PAYLOAD", shrink: true },
  ];
  return table(
    columns,
    jobs.map((job) => [
      String(job.id),
      job.state,
      String(job.priority),
      `${job.attempts}/${job.maxAttempts}`,
      when(job, now),
      oneLine(job.state === "dead" ? job.lastError : job.workerId) || "-",
      payloadText(job.payload),
    ]),
  );
}

function deadTable(jobs: DeadView[], now: number): string {
  return table(
    [
      { header: "ID", align: "right" },
      { header: "QUEUE", shrink: true },
      { header: "TRIES", align: "right" },
      { header: "DIED" },
      { header: "ERROR", shrink: true },
      { header: "PAYLOAD", shrink: true },
    ],
    jobs.map((job) => [
      String(job.id),
      job.queue,
      `${job.attempts}/${job.maxAttempts}`,
      relative(job.diedAt, now),
      oneLine(job.lastError) || "-",
      payloadText(job.payload),
    ]),
  );
}

async function runJobs([file, queue]: string[], values: Values): Promise<number> {
  const states = statesOf(values);
  const limit = limitOf(values, "jobs");
  const { driver, tables } = await inspect(file);
  try {
    const jobs = queueJobs(driver, tables, queue, states, limit);
    const what = values.state === undefined || values.state === "all"
      ? "jobs"
      : `${values.state} jobs`;
    if (values.json) printJson(jobs);
    else if (jobs.length === 0) print(`No ${what} in queue ${JSON.stringify(queue)}`);
    else print(jobsTable(jobs, sqliteNow(driver)));
    return EXIT_OK;
  } finally {
    driver.close();
  }
}

async function runDead([file]: string[], values: Values): Promise<number> {
  const limit = limitOf(values, "dead");
  const queue = values.queue === undefined ? null : String(values.queue);
  const { driver, tables } = await inspect(file);
  try {
    const jobs = deadJobs(driver, tables, queue, limit);
    if (values.json) printJson(jobs);
    else if (jobs.length === 0) {
      print(queue === null ? "No dead jobs" : `No dead jobs in queue ${JSON.stringify(queue)}`);
    } else print(deadTable(jobs, sqliteNow(driver)));
    return EXIT_OK;
  } finally {
    driver.close();
  }
}

/** `honker-ts jobs FILE QUEUE`. */
export const jobs: Command = {
  name: "jobs",
  summary: "jobs of one queue",
  args: "FILE QUEUE",
  arity: [2, 2],
  description: "The jobs of QUEUE: claimed ones first, then pending ones due now in claim\n" +
    "order (highest priority, earliest due), then scheduled ones (pending, due later),\n" +
    "soonest first, then dead ones, latest first. WHEN is when a pending job is due, when\n" +
    "a claim expires, or when a dead job died. Read-only.",
  flags: {
    state: {
      type: "string",
      help: "--state STATE   only pending, scheduled, processing or dead jobs (or all)",
    },
    limit: { type: "string", help: `--limit N       at most N jobs (default ${LIMIT_DEFAULT})` },
    ...JSON_FLAG,
  },
  run: runJobs,
};

/** `honker-ts dead FILE`. */
export const dead: Command = {
  name: "dead",
  summary: "dead letters, latest first",
  args: "FILE",
  arity: [1, 1],
  description:
    "Jobs in the dead letters (failed, out of attempts or expired), of every queue or\n" +
    "of one, the latest death first, with the error that killed them. Read-only; put one\n" +
    "back with `honker-ts requeue FILE ID`.",
  flags: {
    queue: { type: "string", help: "--queue QUEUE   only this queue" },
    limit: { type: "string", help: `--limit N       at most N jobs (default ${LIMIT_DEFAULT})` },
    ...JSON_FLAG,
  },
  run: runDead,
};
