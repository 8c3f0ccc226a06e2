/**
 * `honker-ts/dashboard`: a web dashboard for a honker file, as one Fetch API handler.
 *
 * - `dashboard(db, { basePath, actions, authorize })` returns `(Request) => Promise<Response>`
 *   for `Deno.serve`, `Bun.serve`, Hono, or Node through `toNodeListener()`.
 * - `openReadOnly(path)` opens a file read-only, for a dashboard that must never change it.
 *
 * No dependency, no build step, nothing fetched from a CDN: the pages are rendered on the
 * server and kept live by Server-Sent Events driven by the file's commits.
 *
 * @example Stand-alone, read-only, on Node
 * ```ts ignore
 * import { createServer } from "node:http";
 * import { dashboard, openReadOnly, toNodeListener } from "honker-ts/dashboard";
 *
 * const view = await openReadOnly("app.db");
 * createServer(toNodeListener(dashboard(view))).listen(7070, "127.0.0.1");
 * ```
 *
 * @module
 */

export { dashboard } from "./handler.ts";
export type { DashboardHandler, DashboardOptions } from "./handler.ts";
export { openReadOnly, ReadOnlyDatabase } from "./read_only.ts";
export { toNodeListener } from "./node.ts";
export type { NodeListener } from "./node.ts";
