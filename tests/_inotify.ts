// Why the inotify source's tests cannot run here, or undefined when they can: Deno and Bun read
// inotify through libc (wake/sources/inotify_source.ts); Node uses fs.watch.

import { inotifyAvailable } from "../wake/sources/inotify_source.ts";
import { runtimeKey } from "./_runtime.ts";

/** The skip reason for a test of the inotify source on this runtime, if any. */
export function inotifySkipReason(): string | undefined {
  if (runtimeKey() === "node") {
    return "inotify through FFI is Deno's and Bun's fs source; Node uses fs.watch";
  }
  return inotifyAvailable() ? undefined : "needs Linux, glibc and, on Deno, --allow-ffi";
}
