/**
 * The error a scheduler reports for a stored schedule it cannot read.
 *
 * @module
 */

/**
 * A stored schedule honker-ts cannot parse or evaluate: a row written by hand, or by a newer
 * honker whose syntax this version does not know. It is never fired and never changed; the other
 * schedules keep firing. `tick()` throws it (after committing the others' fires) or hands it to
 * `onError`; `run({ onError })` is called once per such schedule; `list()` shows the same text in
 * the task's `error`.
 *
 * @example Report broken schedules from the leader
 * ```ts ignore
 * await db.scheduler().run({
 *   signal,
 *   onError: (error) => log.error(error.message, { schedule: error.taskName }),
 * });
 * ```
 */
export class UnreadableScheduleError extends Error {
  /** The schedule's name. */
  readonly taskName: string;
  /** Its expression as stored. */
  readonly schedule: string;
  /** Names of other schedules the same tick could not read (when `tick()` throws). */
  readonly others: readonly string[];

  /**
   * Creates the error for schedule `taskName`; `cause` is what parsing or evaluating
   * `schedule` threw.
   */
  constructor(taskName: string, schedule: string, cause: Error, others: readonly string[] = []) {
    const more = others.length === 0
      ? ""
      : `; and ${others.length} more (${others.map((n) => JSON.stringify(n)).join(", ")})`;
    super(
      `Cannot fire schedule ${JSON.stringify(taskName)}: honker-ts cannot read its expression ` +
        `${JSON.stringify(schedule)} (${cause.message})${more}`,
      { cause },
    );
    this.name = "UnreadableScheduleError";
    this.taskName = taskName;
    this.schedule = schedule;
    this.others = others;
  }
}
