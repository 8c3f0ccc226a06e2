/**
 * Cross-process change detection from file-system events: watch the database's directory (the
 * `-wal` file itself is deleted when the last connection closes, which would blind a watch on
 * it), keep the events for the database's own files, and confirm each with the change probe.
 *
 * The `-wal` write event arrives before the commit is visible (the wal-index in `-shm` is
 * updated afterwards, through mmap, which raises no event), so an event that shows no change
 * is re-checked a few times over the next milliseconds. A slow backstop poll catches anything
 * the file system did not report.
 *
 * @module
 */

import { watch } from "node:fs";
import type { FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";
import {
  clearImmediate,
  clearInterval,
  clearTimeout,
  setImmediate,
  setInterval,
  setTimeout,
} from "node:timers";
import type { ChangeProbe } from "../core/_version_probe.ts";

/** Delays, in ms after an unconfirmed event, at which the probe is asked again. */
const RECHECK_DELAYS_MS = [1, 2, 4, 8, 16];

/** What the fs source reports to. */
export interface FsSourceOptions {
  /** The database file path. */
  path: string;
  /** True when something was committed since the last call. */
  probe: ChangeProbe;
  /** Called once per confirmed change (bursts coalesce). */
  onChange(): void;
  /** Milliseconds between backstop polls of the probe. */
  backstopPollMs: number;
  /** Called for an event on a file other than the database's own (the auto-mode probe). */
  onOtherFile?(filename: string): void;
}

/** A running fs source; `stop()` releases the watch and every timer. */
export interface FsSource {
  stop(): void;
}

/** Starts watching. Throws when the directory cannot be watched. */
export function startFsSource(options: FsSourceOptions): FsSource {
  const base = basename(options.path);
  const ours = new Set([base, `${base}-wal`, `${base}-journal`]);
  let recheck: ReturnType<typeof setTimeout> | undefined;
  let immediate: ReturnType<typeof setImmediate> | undefined;
  let attempt = 0;

  const cancelRechecks = () => {
    if (recheck !== undefined) clearTimeout(recheck);
    if (immediate !== undefined) clearImmediate(immediate);
    recheck = immediate = undefined;
  };
  const confirm = (): boolean => {
    let changed: boolean;
    try {
      changed = options.probe();
    } catch {
      changed = true; // Cannot tell: a spurious wake is cheap, a lost one is not.
    }
    if (changed) {
      cancelRechecks();
      options.onChange();
    }
    return changed;
  };
  const scheduleRecheck = () => {
    if (attempt >= RECHECK_DELAYS_MS.length) return;
    recheck = setTimeout(() => {
      recheck = undefined;
      if (!confirm()) {
        attempt++;
        scheduleRecheck();
      }
    }, RECHECK_DELAYS_MS[attempt]);
    recheck.unref();
  };
  const onEvent = (_event: string, filename: string | Buffer | null) => {
    const name = filename === null ? undefined : String(filename);
    if (name !== undefined && !ours.has(name)) {
      options.onOtherFile?.(name);
      return;
    }
    if (confirm()) return;
    // Not visible yet: look again right after this turn, then at growing delays.
    cancelRechecks();
    attempt = 0;
    immediate = setImmediate(() => {
      immediate = undefined;
      if (!confirm()) scheduleRecheck();
    });
  };

  const watcher: FSWatcher = watch(dirname(options.path), { persistent: false }, onEvent);
  watcher.on("error", () => {}); // The backstop poll keeps working; identity checks catch the rest.
  watcher.unref?.();
  const backstop = setInterval(confirm, options.backstopPollMs);
  backstop.unref();
  return {
    stop() {
      cancelRechecks();
      clearInterval(backstop);
      watcher.close();
    },
  };
}
