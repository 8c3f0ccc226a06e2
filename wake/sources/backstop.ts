/**
 * The fs-mode backstop: one timer that polls for a commit whose event was missed, at
 * `activeMs` while the database's files are active and at `idleMs` once they have been quiet.
 *
 * Every wake-up of an idle process costs CPU (0.2–0.7 ms each on the 2-core VM measured, most of
 * it the wake itself rather than the `data_version` read), so a database nobody writes to is
 * polled at the slower cadence. The first event on its files brings the fast one back: that is
 * what catches a commit that became visible after its event's re-checks ended (a writer slow to
 * fsync).
 *
 * @module
 */

import { clearInterval, setInterval } from "node:timers";

/**
 * Polls in a row that saw no change, with no event on the database's files in between, after
 * which the cadence slows to `idleMs` (5 s at the default 250 ms).
 */
export const QUIET_AFTER_POLLS = 20;

/** What the backstop runs. */
export interface BackstopOptions {
  /** Milliseconds between polls while the files are active. */
  activeMs: number;
  /** Milliseconds between polls once they are quiet (at least `activeMs`). */
  idleMs: number;
  /** One poll: true when it saw a change (which keeps the cadence fast). */
  poll(): boolean;
}

/** A running backstop. */
export interface Backstop {
  /** An event on the database's files: cheap, since it runs for every commit. */
  activity(): void;
  stop(): void;
}

/** Starts polling at `activeMs`; the timer never keeps the process alive. */
export function startBackstop(options: BackstopOptions): Backstop {
  const { activeMs, idleMs } = options;
  let cadenceMs = activeMs;
  let activity = 0;
  let seenActivity = 0;
  let quietPolls = 0;
  let stopped = false;
  const onTick = () => {
    const changed = options.poll();
    if (stopped) return;
    if (changed || activity !== seenActivity) {
      seenActivity = activity;
      quietPolls = 0;
      setCadence(activeMs);
    } else if (++quietPolls >= QUIET_AFTER_POLLS) {
      setCadence(idleMs);
    }
  };
  let timer = setInterval(onTick, cadenceMs);
  timer.unref();
  const setCadence = (ms: number) => {
    if (ms === cadenceMs || stopped) return;
    clearInterval(timer);
    cadenceMs = ms;
    timer = setInterval(onTick, ms);
    timer.unref();
  };
  return {
    activity() {
      activity++;
      if (cadenceMs !== activeMs) {
        quietPolls = 0;
        setCadence(activeMs);
      }
    },
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
