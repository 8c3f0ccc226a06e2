/**
 * The page frame every page shares: head with inline style, the navigation, `<main>` (the
 * part a live update replaces), and the inline script. Nothing is fetched from elsewhere: the
 * dashboard works on an offline box. The script keeps the page live through Server-Sent Events
 * (`/live`, woken by the file's commits), so the browser never polls. Beside the frame, the two
 * parts of an action any page may show: its form and the flash message of its outcome.
 *
 * @module
 */

import { html, raw } from "./html.ts";
import type { Html } from "./html.ts";
import type { Snapshot } from "./reads.ts";

/** What every page renders with. */
export interface PageContext {
  /** The path the dashboard is mounted under, without a trailing slash ("" at the root). */
  base: string;
  /** Whether actions (POST forms) are allowed. */
  actions: boolean;
  /** The session's CSRF token ("" when actions are off). */
  csrf: string;
  /** The request's URL. */
  url: URL;
  /** The read the page shows. */
  snap: Snapshot;
}

/** A rendered page: its title and the content of `<main>`. */
export interface Page {
  title: string;
  /** Which navigation entry is current. */
  nav: "overview" | "dead" | "schedules" | "notifications" | "";
  main: Html;
  /** A notification channel whose new messages the page appends live. */
  channel?: string;
  /** HTTP status (200 unless given). */
  status?: number;
}

const STYLE = `
:root { color-scheme: light dark; --fg: #1d2330; --muted: #667085; --bg: #f7f8fa; --card: #fff;
  --line: #e3e6eb; --accent: #2f5bd3; --warn: #b54708; --bad: #c01048; --ok: #067647; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e9ef; --muted: #98a2b3; --bg: #12151b;
  --card: #1a1f28; --line: #2b323d; --accent: #7ea2ff; --warn: #f79009; --bad: #f63d68; --ok: #47cd89; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: var(--bg); }
header { display: flex; gap: 1.25rem; align-items: center; padding: .6rem 1.25rem;
  background: var(--card); border-bottom: 1px solid var(--line); flex-wrap: wrap; }
header .brand { font-weight: 700; color: var(--fg); text-decoration: none; }
header nav { display: flex; gap: .25rem; flex-wrap: wrap; }
header nav a { padding: .25rem .6rem; border-radius: 6px; color: var(--fg); text-decoration: none; }
header nav a[aria-current="page"] { background: var(--accent); color: #fff; }
.mode, .live { font-size: 12px; color: var(--muted); }
.live::before { content: "●"; margin-right: .3em; color: var(--muted); }
body[data-live="on"] .live::before { color: var(--ok); }
main { padding: 1rem 1.25rem 3rem; max-width: 1200px; }
h1 { font-size: 20px; margin: .4rem 0 1rem; } h2 { font-size: 16px; margin: 1.6rem 0 .6rem; }
section.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: .2rem .8rem .8rem; margin-bottom: 1rem; overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line);
  vertical-align: baseline; }
th { font-size: 12px; color: var(--muted); font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible {
  outline: 2px solid var(--accent); outline-offset: 2px; }
pre { margin: 0; white-space: pre-wrap; word-break: break-word;
  font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
code, .mono { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
.muted { color: var(--muted); } .bad { color: var(--bad); } .warn { color: var(--warn); }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 999px; font-size: 12px;
  border: 1px solid var(--line); }
.badge.paused { color: var(--warn); border-color: var(--warn); }
.tabs { display: flex; gap: .25rem; margin: .5rem 0; flex-wrap: wrap; }
.tabs a { padding: .2rem .6rem; border: 1px solid var(--line); border-radius: 6px;
  text-decoration: none; color: var(--fg); }
.tabs a[aria-current="page"] { border-color: var(--accent); color: var(--accent); font-weight: 600; }
form.inline { display: inline; margin: 0; }
button { font: inherit; padding: .2rem .7rem; border-radius: 6px; border: 1px solid var(--line);
  background: var(--card); color: var(--fg); cursor: pointer; }
button.danger { color: var(--bad); border-color: var(--bad); }
input[type="search"], input[type="text"] { font: inherit; padding: .2rem .5rem;
  border: 1px solid var(--line); border-radius: 6px; background: var(--card); color: var(--fg); }
.flash { padding: .5rem .8rem; border-left: 3px solid var(--ok); background: var(--card); }
.flash.error { border-color: var(--bad); }
dl.fields { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dl.fields dt { color: var(--muted); } dl.fields dd { margin: 0; }
.toolbar { display: flex; gap: .75rem; align-items: center; flex-wrap: wrap; margin: .5rem 0; }
`;

/**
 * The browser side: one EventSource on `/live`. A "change" re-fetches this page's `<main>`
 * (one request in flight, later changes coalesced into one more), keeping focus on the element
 * that had it and what was typed or ticked in the inputs, so a keyboard user is not thrown back
 * to the top and a ticked confirmation box stays ticked. A "notification" appends a
 * row, its text set through textContent.
 */
const SCRIPT = `(() => {
  const body = document.body;
  const main = document.getElementById("main");
  const channel = body.dataset.channel || "";
  let busy = false, again = false;
  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const response = await fetch(location.href, { headers: { "x-honker-partial": "1" } });
      if (response.ok) {
        const text = await response.text();
        const focused = document.activeElement && document.activeElement.id;
        const kept = [...main.querySelectorAll("input[id]")].map((e) => [e.id, e.value, e.checked]);
        main.innerHTML = text;
        for (const [id, value, checked] of kept) {
          const input = document.getElementById(id);
          if (input && input.type !== "hidden") { input.value = value; input.checked = checked; }
        }
        if (focused) { const again = document.getElementById(focused); if (again) again.focus(); }
        body.dataset.refreshes = String(Number(body.dataset.refreshes || 0) + 1);
      }
    } catch (e) { /* the next change tries again */ }
    busy = false;
    if (again) { again = false; refresh(); }
  }
  function append(n) {
    const list = document.getElementById("tail");
    if (!list) return;
    const row = document.createElement("tr");
    for (const text of ["#" + n.id, new Date(n.createdAt * 1000).toISOString(), n.payload]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.appendChild(cell);
    }
    list.prepend(row);
    while (list.children.length > 200) list.lastElementChild.remove();
  }
  const url = body.dataset.base + "/live" + (channel ? "?channel=" + encodeURIComponent(channel) : "");
  const source = new EventSource(url);
  source.onopen = () => { body.dataset.live = "on"; };
  source.onerror = () => { body.dataset.live = "off"; };
  source.addEventListener("change", refresh);
  source.addEventListener("notification", (e) => append(JSON.parse(e.data)));
})();`;

const NAV: ReadonlyArray<[Page["nav"], string, string]> = [
  ["overview", "/", "Overview"],
  ["dead", "/dead", "Dead letters"],
  ["schedules", "/schedules", "Schedules"],
  ["notifications", "/notifications", "Notifications"],
];

/** The whole document around a page. `nonce` allows the inline style and script (CSP). */
export function layout(ctx: PageContext, page: Page, nonce: string): Html {
  const nav = NAV.map(([key, path, label]) =>
    html`
      <a href="${ctx.base}${path}" ${raw(
        key === page.nav ? ' aria-current="page"' : "",
      )}>${label}</a>
    `
  );
  const mode = ctx.actions ? "actions allowed" : "read-only";
  return html`
    <!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <link rel="icon" href="data:,">
        <title>${page.title} · honker-ts</title>
        <style nonce="${nonce}">${raw(STYLE)}</style>
      </head>
      <body data-base="${ctx.base}" data-live="off" data-channel="${page.channel ?? ""}">
        <header><a class="brand" href="${ctx
          .base}/">honker-ts</a><nav aria-label="Sections">${nav}</nav>
    <span class="mode">${mode}</span><span class="live" aria-live="polite">live</span></header>
        <main id="main">${page.main}</main>
        <script nonce="${nonce}">${raw(SCRIPT)}</script>
      </body>
    </html>
  `;
}

/** An action: a POST form with the CSRF token, or nothing when actions are off. */
export function actionForm(
  ctx: PageContext,
  action: string,
  fields: Record<string, string | number>,
  label: string,
  options: { id: string; danger?: boolean; confirm?: boolean },
): Html {
  if (!ctx.actions) return html``;
  const back = ctx.url.pathname + ctx.url.search;
  const inputs = Object.entries({ ...fields, csrf: ctx.csrf, back }).map(([name, value]) =>
    html`<input type="hidden" name="${name}" value="${value}">`
  );
  const confirm = options.confirm
    ? html`
      <label><input type="checkbox" name="confirm" value="yes" required id="${options
        .id}-confirm"> confirm</label>
    `
    : html``;
  return html`
    <form class="inline" method="post"
      action="${ctx.base}/actions/${action}">${inputs}${confirm}<button id="${options.id}"${raw(
        options.danger ? ' class="danger"' : "",
      )}>${label}</button></form>
  `;
}

/** Flash message of a finished action (`?done=` or `?error=` after the redirect). */
export function flash(ctx: PageContext): Html {
  const done = ctx.url.searchParams.get("done");
  const error = ctx.url.searchParams.get("error");
  if (error) return html`<p class="flash error" role="alert">${error}</p>`;
  return done ? html`<p class="flash" role="status">${done}</p>` : html``;
}
