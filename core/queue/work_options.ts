/**
 * Checks the options of `work()` and `queue.worker()` into the settings a run uses. Every check
 * throws before anything is claimed.
 *
 * @module
 */

import {
  COUNT_MAX,
  requireCount,
  requireInteger,
  requireName,
  requireOptions,
  requireSeconds,
  requireTimerMs,
} from "../db/validate.ts";
import { idlePollMs } from "../wait/wait_loop.ts";
import { requireBackoff, retryDelayBackoff } from "./backoff.ts";
import { requireTimeoutS } from "./work_timeout.ts";
import { GRACE_DEFAULT_MS, RETRY_DELAY_DEFAULT_S, WORK_OPTION_KEYS } from "./work_types.ts";
import type { JobHandler, WorkOptions, WorkSettings } from "./work_types.ts";

/** A run's checked settings, and the signal that stops it. */
export interface CheckedWork<T> {
  s: WorkSettings<T>;
  signal: AbortSignal | undefined;
}

/** Checks `handler` and `options`; `keys` are the option keys the call accepts. */
export function checkWorkOptions<T>(
  queueName: string,
  handler: JobHandler<T>,
  options: WorkOptions<T> | undefined,
  keys: readonly string[] = WORK_OPTION_KEYS,
): CheckedWork<T> {
  const action = `work on queue ${JSON.stringify(queueName)}`;
  if (typeof handler !== "function") {
    throw new TypeError(`Cannot ${action}: the handler must be a function`);
  }
  const opts = requireOptions(options, action, keys as (keyof WorkOptions<T>)[]);
  if (opts.onError !== undefined && typeof opts.onError !== "function") {
    throw new TypeError(`Cannot ${action}: onError must be a function`);
  }
  if (opts.retryDelayS !== undefined && opts.backoff !== undefined) {
    throw new TypeError(`Cannot ${action}: give backoff or retryDelayS, not both`);
  }
  const s: WorkSettings<T> = {
    action,
    handler,
    concurrency: requireCount(opts.concurrency ?? 1, "concurrency", action),
    prefetch: requirePrefetch(opts.prefetch, action),
    workerId: requireName(
      opts.workerId ?? `work-${crypto.randomUUID().slice(0, 8)}`,
      "workerId",
      action,
    ),
    backoff: opts.backoff === undefined
      ? retryDelayBackoff(
        requireSeconds(opts.retryDelayS ?? RETRY_DELAY_DEFAULT_S, "retryDelayS", action),
      )
      : requireBackoff(opts.backoff, "backoff", action),
    timeoutS: opts.timeoutS === undefined ? undefined : requireTimeoutS(opts.timeoutS, action),
    graceMs: requireTimerMs(opts.graceMs ?? GRACE_DEFAULT_MS, "graceMs", action, true),
    idleMs: idlePollMs(opts.idlePollMs, action),
    onError: opts.onError,
  };
  return { s, signal: opts.signal };
}

/** `prefetch`: a whole number of jobs, 0 (the default) to COUNT_MAX. */
function requirePrefetch(value: unknown, action: string): number {
  const n = requireInteger(value ?? 0, "prefetch", action, 0);
  if (n > COUNT_MAX) {
    throw new RangeError(`Cannot ${action}: prefetch must be at most ${COUNT_MAX}, got ${n}`);
  }
  return n;
}
