/**
 * `dashboard(db, options)`: one Fetch API handler, `(Request) => Promise<Response>`, that any
 * server speaking the Fetch API mounts (`Deno.serve`, `Bun.serve`, Node through
 * `toNodeListener()`, Hono), under any base path. Pages are rendered on the server with every
 * value escaped; actions are POST forms with a per-session CSRF token, and exist only when the
 * dashboard is created with `actions: true` on a writable Database.
 *
 * @module
 */

import { Database } from "../mod.ts";
import { requireOptions } from "../core/db/validate.ts";
import { ACTIONS } from "./actions.ts";
import { sessionCookie, sessionOf, Sessions } from "./csrf.ts";
import { html } from "./html.ts";
import { layout } from "./layout.ts";
import type { Page, PageContext } from "./layout.ts";
import { LiveHub } from "./live.ts";
import { deadLettersPage } from "./pages_dead.ts";
import { jobPageView } from "./pages_job.ts";
import { notificationsPage } from "./pages_notifications.ts";
import { overviewPage } from "./pages_overview.ts";
import { findJob, queuePage } from "./pages_queue.ts";
import { schedulesPage } from "./pages_schedules.ts";
import { streamPage } from "./pages_stream.ts";
import type { ReadOnlyDatabase } from "./read_only.ts";
import { snapshot } from "./reads.ts";

/** Options for `dashboard()`. */
export interface DashboardOptions {
  /**
   * The path the handler is mounted under, e.g. `"/admin/queues"`; requests outside it get a
   * 404. Defaults to the root.
   */
  basePath?: string;
  /**
   * Allow actions (requeue, purge, pause, resume, run now, remove a consumer). Defaults to
   * false: the dashboard only reads. Needs a Database from `open()`, not `openReadOnly()`.
   */
  actions?: boolean;
  /**
   * Called for every request before anything is read or done: return true to serve it, false
   * for a 403, or a Response to send instead (a redirect to your login page, say).
   */
  authorize?: (request: Request) => boolean | Response | Promise<boolean | Response>;
}

/** Every key of `DashboardOptions`. */
const OPTION_KEYS: readonly (keyof DashboardOptions)[] = ["basePath", "actions", "authorize"];

/** A request handler in the Fetch API's terms. */
export type DashboardHandler = (request: Request) => Promise<Response>;

/** What a page handler needs besides the request. */
interface Served {
  db: Database | ReadOnlyDatabase;
  base: string;
  actions: boolean;
  sessions: Sessions;
  live: LiveHub;
  authorize: DashboardOptions["authorize"];
}

function checkBase(value: unknown, action: string): string {
  if (value === undefined) return "";
  if (typeof value !== "string" || !/^\/[^?#\s]*$/.test(value)) {
    throw new TypeError(
      `Cannot ${action}: basePath must be a path starting with "/", got ${JSON.stringify(value)}`,
    );
  }
  return value.replace(/\/+$/, "");
}

function nonce(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
}

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "same-origin",
  "cache-control": "no-store",
};

function text(status: number, message: string): Response {
  return new Response(`${message}\n`, {
    status,
    headers: { ...SECURITY_HEADERS, "content-type": "text/plain; charset=utf-8" },
  });
}

function route(ctx: PageContext, rest: string): Page | Response {
  const parts = rest.split("/").filter((p) => p !== "").map(decodeURIComponent);
  const [first, name, third, id] = parts;
  if (parts.length === 0) return overviewPage(ctx);
  if (parts.length === 1 && first === "dead") return deadLettersPage(ctx);
  if (parts.length === 1 && first === "schedules") return schedulesPage(ctx);
  if (parts.length === 1 && first === "notifications") return notificationsPage(ctx);
  if (first === "streams" && parts.length === 2) return streamPage(ctx, name);
  if (first === "queues" && parts.length === 2) return queuePage(ctx, name);
  if (first === "queues" && parts.length === 3 && third === "find") {
    const found = findJob(ctx, name, ctx.url.searchParams.get("q") ?? "");
    const target = found === null
      ? `${ctx.base}/queues/${encodeURIComponent(name)}?error=${
        encodeURIComponent(`No job matches "${ctx.url.searchParams.get("q") ?? ""}" in this queue`)
      }`
      : `${ctx.base}/queues/${encodeURIComponent(name)}/jobs/${found}`;
    return new Response(null, { status: 303, headers: { location: target } });
  }
  if (first === "queues" && parts.length === 4 && third === "jobs" && /^[0-9]+$/.test(id)) {
    return jobPageView(ctx, name, Number(id));
  }
  return {
    title: "Not found",
    nav: "",
    status: 404,
    main: html`
      <h1>Not found</h1>
      <p>No such page.</p>
    `,
  };
}

async function servePage(
  s: Served,
  request: Request,
  url: URL,
  rest: string,
): Promise<Response> {
  let session = sessionOf(request);
  const fresh = session === undefined;
  session ??= s.sessions.newSession();
  const csrf = s.actions ? await s.sessions.token(session) : "";
  const ctx: PageContext = {
    base: s.base,
    actions: s.actions,
    csrf,
    url,
    snap: snapshot(s.db.driver),
  };
  const page = route(ctx, rest);
  if (page instanceof Response) return page;
  const script = nonce();
  const partial = request.headers.get("x-honker-partial") === "1";
  const body = partial ? page.main.toString() : layout(ctx, page, script).toString();
  const headers: Record<string, string> = {
    ...SECURITY_HEADERS,
    "content-type": "text/html; charset=utf-8",
    "content-security-policy":
      `default-src 'none'; script-src 'nonce-${script}'; style-src 'nonce-${script}'; ` +
      "connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  };
  if (fresh) {
    headers["set-cookie"] = sessionCookie(session, s.base || "/", url.protocol === "https:");
  }
  return new Response(body, { status: page.status ?? 200, headers });
}

function backTo(
  s: Served,
  fields: URLSearchParams,
  key: "done" | "error",
  message: string,
): Response {
  // Only back to a page of this dashboard: a path under the base, parsed as one (a "//host" or
  // "/\\host" or a dot segment must not turn the redirect into one to another site).
  const inside = (path: string) => path.startsWith(`${s.base}/`) && !path.startsWith("//");
  const given = new URL(fields.get("back") ?? "", "http://x");
  const url = given.origin === "http://x" && inside(given.pathname)
    ? given
    : new URL(`${s.base}/`, "http://x");
  url.searchParams.delete("done");
  url.searchParams.delete("error");
  url.searchParams.set(key, message);
  return new Response(null, { status: 303, headers: { location: `${url.pathname}${url.search}` } });
}

function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined; // "null" (a sandboxed frame, a file: page) is no origin of ours
  }
}

async function serveAction(s: Served, request: Request, url: URL, name: string): Promise<Response> {
  if (!s.actions || !(s.db instanceof Database)) {
    return text(403, "Forbidden: this dashboard is read-only (start it with actions allowed)");
  }
  const origin = request.headers.get("origin");
  // The host alone: behind a proxy that ends TLS, the browser's https origin meets an http URL.
  if (origin !== null && hostOf(origin) !== url.host) {
    return text(403, "Forbidden: cross-origin request");
  }
  const fields = new URLSearchParams(await request.text());
  const session = sessionOf(request);
  if (session === undefined || !(await s.sessions.check(session, fields.get("csrf") ?? ""))) {
    return text(403, "Forbidden: missing or wrong CSRF token (reload the page and try again)");
  }
  const action = Object.hasOwn(ACTIONS, name) ? ACTIONS[name] : undefined;
  if (!action) return text(404, `No such action: ${name}`);
  try {
    return backTo(s, fields, "done", action(s.db, fields));
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError) {
      return backTo(s, fields, "error", error.message);
    }
    throw error;
  }
}

async function serve(s: Served, request: Request): Promise<Response> {
  const url = new URL(request.url);
  const path = url.pathname;
  if (path !== s.base && !path.startsWith(`${s.base}/`)) return text(404, "Not found");
  if (s.authorize) {
    const verdict = await s.authorize(request);
    if (verdict instanceof Response) return verdict;
    if (verdict !== true) return text(403, "Forbidden");
  }
  const rest = path.slice(s.base.length);
  if (request.method === "POST" && rest.startsWith("/actions/")) {
    return await serveAction(s, request, url, rest.slice("/actions/".length));
  }
  if (request.method !== "GET" && request.method !== "HEAD") return text(405, "Method not allowed");
  if (rest === "/live") return s.live.stream(request, url.searchParams.get("channel"));
  if (path === s.base && s.base !== "") {
    return new Response(null, { status: 308, headers: { location: `${s.base}/` } });
  }
  return await servePage(s, request, url, rest);
}

/**
 * A web dashboard for the file behind `db`: the overview (queues with counts, throughput,
 * failures and oldest pending age; streams with consumers and lag; schedules; locks), each
 * queue's jobs by state, a job's payload, error, result and events, the dead letters, a
 * stream's events and consumers, the schedules, and a live tail of a notification channel.
 * Pages update on every commit from any process, through Server-Sent Events driven by
 * `db.updates()`.
 *
 * Read-only unless `actions: true`. Every page escapes what it shows; actions are POST forms
 * with a per-session CSRF token.
 *
 * @param db A Database from `open()` (needed for actions), or a view from `openReadOnly()`.
 * @param options The base path, whether actions are allowed, an authorization hook.
 * @returns The handler: `(request: Request) => Promise<Response>`.
 * @throws {TypeError} For an unknown option, a bad basePath, or actions on a read-only view.
 *
 * @example Mount it under /admin/queues with Deno.serve
 * ```ts ignore
 * import { open } from "honker-ts";
 * import { dashboard } from "honker-ts/dashboard";
 *
 * const db = await open("app.db");
 * const handler = dashboard(db, { basePath: "/admin/queues", actions: true });
 * Deno.serve({ hostname: "127.0.0.1", port: 7070 }, handler);
 * ```
 */
export function dashboard(
  db: Database | ReadOnlyDatabase,
  options?: DashboardOptions,
): DashboardHandler {
  const action = "create the dashboard";
  const opts = requireOptions(options, action, OPTION_KEYS);
  if (typeof db !== "object" || db === null || typeof db.updates !== "function") {
    throw new TypeError(`Cannot ${action}: db must be a Database or a read-only view`);
  }
  if (opts.actions !== undefined && typeof opts.actions !== "boolean") {
    throw new TypeError(
      `Cannot ${action}: actions must be a boolean, got ${JSON.stringify(opts.actions)}`,
    );
  }
  if (opts.actions && !(db instanceof Database)) {
    throw new TypeError(
      `Cannot ${action}: actions need a Database from open(), not a read-only view`,
    );
  }
  if (opts.authorize !== undefined && typeof opts.authorize !== "function") {
    throw new TypeError(`Cannot ${action}: authorize must be a function`);
  }
  const served: Served = {
    db,
    base: checkBase(opts.basePath, action),
    actions: opts.actions === true,
    sessions: new Sessions(),
    live: new LiveHub(db),
    authorize: opts.authorize,
  };
  return async (request) => {
    try {
      return await serve(served, request);
    } catch (error) {
      const closed = (error as Error)?.name === "DatabaseClosedError";
      return text(
        closed ? 503 : 500,
        `${closed ? "Unavailable" : "Error"}: ${(error as Error)?.message ?? error}`,
      );
    }
  };
}
