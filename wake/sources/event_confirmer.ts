/**
 * The confirmation every file-system event source shares (the `fs.watch` source in
 * `fs_source.ts`, the inotify source in `inotify_source.ts`): keep the events for the database's
 * own files, ask the change probe whether another connection committed, and look again while a
 * commit is on its way.
 *
 * The `-wal` write event arrives before the commit is visible (the wal-index in `-shm` is
 * updated afterwards, through mmap, which raises no event), so an event that shows no change
 * from another connection, while the `-wal` shows a commit being written (`wal_tail.ts`), is
 * re-checked a few times over the next milliseconds. Where the runtime can sleep below a
 * millisecond the first re-checks come after 0.1–0.8 ms instead of the 1 ms a timer needs at
 * least: on Bun through `Atomics.waitAsync`, which sleeps accurately; on Deno, whose timers and
 * `Atomics.waitAsync` both overshoot by about 1 ms (so a re-check "after 1 ms" came after 2.1),
 * through libc's `usleep` run off the main thread by Deno FFI, which overshoots by about 0.2 ms.
 *
 * @module
 */

import { basename } from "node:path";
import { setImmediate, setTimeout } from "node:timers";
import { runtimeKey } from "../../platform/runtime.ts";
import { probeOrAssumeOther } from "../version_probe.ts";
import { loadLibc } from "./libc_inotify.ts";
import type { ChangeProbe } from "../version_probe.ts";

/**
 * Delays, in ms after an unconfirmed event, at which the probe is asked again: finer where the
 * runtime can sleep below a millisecond (see {@linkcode after}).
 */
const RECHECK_DELAYS_MS: readonly number[] = runtimeKey() === "node"
  ? [1, 2, 4, 8, 16]
  : [0.1, 0.1, 0.2, 0.4, 0.8, 1, 2, 4, 8, 16];

/**
 * Bun's fs.watch drops an event for a file when it reported one for the same file within the
 * same or the previous millisecond (the duplicate suppression of its path watcher,
 * `shouldEmit` in `path_watcher.zig`): a commit landing up to 2 ms after another raises no
 * event there (a worker's ack right after its claim, say). So on Bun a confirmed event is
 * followed by more looks, each this long after the previous one (0.5, 1, 1.5 and 2.2 ms after
 * the event; sleeps below 1 ms are accurate there): a commit in that window is seen within
 * about 0.5 ms, where a single look at 2.5 ms saw it 2.5 ms late. A look that finds a commit
 * starts the looks over, since that commit's own event may have been the dropped one.
 * Elsewhere every write is reported. Bun uses `fs.watch` only where inotify cannot be bound
 * (no glibc): the inotify source passes no such looks.
 */
const AFTER_CONFIRMED_MS: readonly number[] = runtimeKey() === "bun" ? [0.5, 0.5, 0.5, 0.7] : [];

/** How long after this process's own write an unconfirmed event is taken for that write. */
const OWN_WRITE_WINDOW_MS = 2;

/**
 * How long after an unconfirmed event not taken for our own write the probe is asked again at
 * every turn of the event loop, before the timed re-checks. A commit's first `-wal` event comes
 * before the commit is visible: its WAL index header moved 13 µs after the event at the median,
 * 65 µs at p90 and 110–170 µs at p99 (measured on Bun, spin-reading the header), where the first
 * timed re-check came 0.2 ms after the event on Bun (`Atomics.waitAsync` for 0.1 ms) and 1 ms
 * on Node. The WAL index header answers these looks without a statement (`version_probe.ts`).
 */
export const SPIN_MS = 0.3;

/**
 * After a spin that saw no commit, none starts for this long: another connection writing a
 * transaction larger than the page cache (frames written long before its commit) raises events
 * for many milliseconds, and spinning through all of them would busy the main thread.
 */
export const SPIN_PAUSE_MS = 5;

/** What a file-system event source (fs.watch or inotify) reports to. */
export interface FsSourceOptions {
  /** The database file path. */
  path: string;
  /** What changed since the last call. */
  probe: ChangeProbe;
  /** Called once per change another connection committed (bursts coalesce). */
  onChange(): void;
  /** Called for an event on the database file itself (a rename-over shows up here). */
  onDatabaseFileEvent(): void;
  /** Called for every event on the database's own files, before it is confirmed. */
  onActivity?(): void;
  /** Called for an event on a file other than the database's own (the auto-mode probe). */
  onOtherFile?(filename: string): void;
  /**
   * When this process last committed through the API (`performance.now()`): an event within
   * OWN_WRITE_WINDOW_MS of it that shows no other connection's commit is taken for that write.
   */
  lastOwnWriteAt?(): number;
  /** Called for an unconfirmed event taken for our own write (see `lastOwnWriteAt`). */
  onOwnWriteEvent?(): void;
  /**
   * Called when an unconfirmed event, or a re-check, finds no commit being written
   * (`probe.commitPending()`): no more looks follow it.
   */
  onNothingPending?(): void;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Runs `fn` after `ms`. On Bun, delays below a millisecond use `Atomics.waitAsync`; on Deno
 * every delay uses libc's `usleep` through a non-blocking FFI call, which keeps the process
 * alive until it ends (16 ms at the most); elsewhere, an unref'd timer.
 */
function after(ms: number, fn: () => void): void {
  const runtime = runtimeKey();
  if (runtime === "bun" && ms < 1) {
    const result = Atomics.waitAsync(sleeper, 0, 0, ms);
    if (result.async) result.value.then(fn);
    else queueMicrotask(fn);
    return;
  }
  const libc = runtime === "deno" ? loadLibc() : undefined;
  if (libc?.usleep) {
    libc.usleep(Math.round(ms * 1000)).then(fn, fn);
    return;
  }
  setTimeout(fn, ms).unref();
}

/** What an event source reports to: the confirmation logic shared by every event source. */
export interface EventConfirmer {
  /** One file-system event in the database's directory; `name` undefined when unknown. */
  onEvent(name: string | undefined): void;
  /** Cancels every pending re-check. */
  stop(): void;
}

/**
 * Turns raw directory events into confirmed changes: keeps the events for the database's own
 * files, probes each, and re-checks an unconfirmed one at growing delays while a commit is
 * being written. Shared by the `fs.watch` source (`fs_source.ts`) and the inotify source
 * (`inotify_source.ts`), which passes its own `recheckDelaysMs` (its worker thread times the
 * sub-millisecond re-checks) and no looks after a confirmed event (`afterConfirmedMs`: inotify
 * drops no event).
 */
export function eventConfirmer(
  options: FsSourceOptions,
  recheckDelaysMs: readonly number[] = RECHECK_DELAYS_MS,
  afterConfirmedMs: readonly number[] = AFTER_CONFIRMED_MS,
): EventConfirmer {
  return new Confirmer(options, recheckDelaysMs, afterConfirmedMs);
}

/** The EventConfirmer: each event starts a chain of re-checks that ends at the next event. */
class Confirmer implements EventConfirmer {
  readonly #options: FsSourceOptions;
  readonly #base: string;
  readonly #ours: Set<string>;
  readonly #recheckDelaysMs: readonly number[];
  readonly #afterConfirmedMs: readonly number[];
  /**
   * Whether a look that finds no commit being written may end the looks: only where every
   * write raises an event, so a commit begun after the look raises one of its own. A source
   * that drops events (Bun's fs.watch, the one with looks after a confirmed event) keeps them.
   */
  readonly #mayStopWhenIdle: boolean;
  // Each event starts a new chain of re-checks; a chain whose epoch is stale stops itself.
  #epoch = 0;
  /** The end of the current spin (performance.now()); an event during it does not extend it. */
  #spinUntil = 0;
  /** When the last spin ended without seeing a commit (`SPIN_PAUSE_MS`). */
  #fruitlessSpinAt = -Infinity;
  #stopped = false;

  constructor(
    options: FsSourceOptions,
    recheckDelaysMs: readonly number[],
    afterConfirmedMs: readonly number[],
  ) {
    this.#afterConfirmedMs = afterConfirmedMs;
    this.#mayStopWhenIdle = afterConfirmedMs.length === 0;
    this.#options = options;
    this.#recheckDelaysMs = recheckDelaysMs;
    this.#base = basename(options.path);
    this.#ours = new Set([this.#base, `${this.#base}-wal`, `${this.#base}-journal`]);
  }

  onEvent(name: string | undefined): void {
    if (this.#stopped) return;
    if (name !== undefined && !this.#ours.has(name)) {
      this.#options.onOtherFile?.(name);
      return;
    }
    this.#options.onActivity?.();
    if (name === this.#base) this.#options.onDatabaseFileEvent();
    const chain = ++this.#epoch;
    const wrote = this.#wroteLately();
    if (this.#confirm()) return this.#lookAgain(chain);
    if (wrote) this.#options.onOwnWriteEvent?.();
    if (this.#nothingPending()) return;
    // Not visible yet: look again at every turn of the event loop for SPIN_MS, then at growing
    // delays. No spin for an event taken for our own write, within SPIN_PAUSE_MS of a spin that
    // found nothing, or without a WAL index header (each look would be a statement). The
    // immediates stay ref'd: an unref'd one does not stop the event loop from blocking, so on
    // Deno, where the event arrives from a promise rather than an I/O callback, it ran only at
    // the next unrelated wake-up, tens of milliseconds later.
    const spin = !wrote && this.#options.probe.readsHeader === true;
    const spinUntil = spin ? this.#spinDeadline(performance.now()) : 0;
    setImmediate(() => {
      if (this.#live(chain)) this.#confirmOrRecheck(chain, 0, spinUntil);
    });
  }

  stop(): void {
    this.#stopped = true;
  }

  /**
   * True when this process committed through the API within OWN_WRITE_WINDOW_MS: one commit
   * raises several events (one per page written), all after the commit returned. The time of
   * the write, not of the first event after it: a watcher asleep during our ack (nobody waited)
   * must not take the next commit of another process for it.
   */
  #wroteLately(): boolean {
    const at = this.#options.lastOwnWriteAt?.();
    return at !== undefined && performance.now() - at < OWN_WRITE_WINDOW_MS;
  }

  /**
   * Until when an unconfirmed event's looks run at every turn: the current spin's end when one
   * runs (events keep coming during a long write: a spin must end), a new one unless the last
   * found nothing within SPIN_PAUSE_MS; 0 for no spin.
   */
  #spinDeadline(now: number): number {
    if (now < this.#spinUntil) return this.#spinUntil;
    if (now - this.#fruitlessSpinAt < SPIN_PAUSE_MS) return 0;
    return (this.#spinUntil = now + SPIN_MS);
  }

  /** True while `chain` is the latest one and the source runs. */
  #live(chain: number): boolean {
    return !this.#stopped && chain === this.#epoch;
  }

  /** True when another connection's commit was seen (and waiters were woken). */
  #confirm(): boolean {
    if (!probeOrAssumeOther(this.#options.probe.other, true)) return false;
    this.#options.onChange();
    return true;
  }

  /**
   * True when the WAL shows no commit being written (`wal_tail.ts`): the event was for a commit
   * already seen (one commit raises several events), this process's own, or a checkpoint's
   * write, and no look can find more until the next write raises its own event.
   */
  #nothingPending(): boolean {
    if (!this.#mayStopWhenIdle) return false;
    if (probeOrAssumeOther(() => this.#options.probe.commitPending?.(), undefined) !== false) {
      return false;
    }
    this.#options.onNothingPending?.();
    return true;
  }

  /** `spinUntil`: until then (performance.now()), the next look is at the next turn. */
  #confirmOrRecheck(chain: number, attempt: number, spinUntil = 0): void {
    if (this.#confirm()) return this.#lookAgain(chain);
    if (this.#nothingPending()) return;
    if (spinUntil === 0) return this.#recheck(chain, attempt);
    const now = performance.now();
    if (now >= spinUntil) {
      this.#fruitlessSpinAt = now;
      return this.#recheck(chain, attempt);
    }
    setImmediate(() => {
      if (this.#live(chain)) this.#confirmOrRecheck(chain, attempt, spinUntil);
    });
  }

  /** More looks after a confirmed event, for a commit whose event was dropped (Bun). */
  #lookAgain(chain: number, look = 0): void {
    if (look >= this.#afterConfirmedMs.length) return;
    after(this.#afterConfirmedMs[look], () => {
      if (this.#live(chain)) this.#lookAgain(chain, this.#confirm() ? 0 : look + 1);
    });
  }

  #recheck(chain: number, attempt: number): void {
    if (!this.#live(chain) || attempt >= this.#recheckDelaysMs.length) return;
    after(this.#recheckDelaysMs[attempt], () => {
      if (this.#live(chain)) this.#confirmOrRecheck(chain, attempt + 1);
    });
  }
}
