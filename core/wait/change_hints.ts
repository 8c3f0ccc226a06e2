/**
 * `db.updates()`: the waker's change counter as an async iterator, for change feeds (a
 * dashboard, a cache to refresh) that want every commit, this process's quiet writes included.
 *
 * @module
 */

import { abortableIterator } from "./abortable.ts";
import type { Waker } from "./waker.ts";

/**
 * Change hints as an async iterator (`db.updates()`): yields the change counter each time
 * something may have been committed. Ends on abort, `return()` or close. A wait pending when
 * the watcher dies throws its WatcherDiedError; once the watcher is dead, every poll timeout
 * (DEAD_WATCHER_POLL_MS) is a hint, since nothing else would ever report another process's
 * commit.
 */
export function changeHints(waker: Waker, signal?: AbortSignal): AsyncIterableIterator<number> {
  let seen = waker.allSeq;
  return abortableIterator<number>(async (stop) => {
    while (!stop.aborted) {
      const reason = await waker.wait({ signal: stop, since: seen, quiet: true });
      if (reason === "abort") return undefined;
      if (reason === "change" || waker.dead) {
        seen = waker.allSeq;
        return seen;
      }
    }
    return undefined;
  }, { signal });
}
