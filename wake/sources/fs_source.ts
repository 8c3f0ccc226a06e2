/**
 * Cross-process change detection from `fs.watch`: watch the database's directory (the `-wal`
 * file itself is deleted when the last connection closes, which would blind a watch on it) and
 * hand every event to the confirmation shared with the inotify source (`event_confirmer.ts`).
 * Node uses it everywhere; Bun only where inotify cannot be bound (no glibc). The slow backstop
 * poll lives in `watcher.ts`.
 *
 * @module
 */

import { watch } from "node:fs";
import type { FSWatcher } from "node:fs";
import { dirname } from "node:path";
import { eventConfirmer } from "./event_confirmer.ts";
import type { FsSourceOptions } from "./event_confirmer.ts";

/** A running fs source; `stop()` releases the watch and every pending re-check. */
export interface FsSource {
  stop(): void;
  /**
   * Where a source is costly to start (the inotify worker thread), it can stop reporting instead,
   * its watch kept in place: events queue meanwhile and are reported at `resume()`.
   */
  pause?(): void;
  resume?(): void;
}

/** Starts watching with `fs.watch`. Throws when the directory cannot be watched. */
export function startFsSource(options: FsSourceOptions): FsSource {
  const confirmer = eventConfirmer(options);
  const watcher: FSWatcher = watch(
    dirname(options.path),
    { persistent: false },
    (_event, filename) => confirmer.onEvent(filename === null ? undefined : String(filename)),
  );
  watcher.on("error", () => {}); // The backstop poll keeps working; identity checks catch the rest.
  watcher.unref?.();
  return {
    stop() {
      confirmer.stop();
      watcher.close();
    },
  };
}
