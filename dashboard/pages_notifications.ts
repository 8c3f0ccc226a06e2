/**
 * The notifications page: the channels the file has notifications on, and a live tail of one.
 *
 * @module
 */

import { html, raw } from "./html.ts";
import type { Page, PageContext } from "./layout.ts";
import { channels, recentNotifications } from "./reads_streams.ts";

/** Notifications a channel page shows before live ones arrive. */
const NOTIFICATIONS_SHOWN = 50;

/** Notifications: the channels, and a live tail of one. */
export function notificationsPage(ctx: PageContext): Page {
  const channel = ctx.url.searchParams.get("channel") ?? "";
  const known = channels(ctx.snap);
  const list = known.length === 0
    ? html`<p class="muted">No notifications stored.</p>`
    : html`<ul>${
      known.map((c) =>
        html`<li><a href="${ctx.base}/notifications?channel=${encodeURIComponent(c)}">${c}</a></li>`
      )
    }</ul>`;
  const form = html`<form method="get" action="${ctx.base}/notifications" class="toolbar">
<label for="channel">Channel</label><input type="text" id="channel" name="channel" value="${channel}">
<button id="tail-channel">Tail</button></form>`;
  if (channel === "") {
    return {
      title: "Notifications",
      nav: "notifications",
      main: html`<h1>Notifications</h1>${form}${list}`,
    };
  }
  const rows = recentNotifications(ctx.snap, channel, NOTIFICATIONS_SHOWN).map((n) =>
    html`
      <tr>
        <td>#${n.id}</td>
        <td>${new Date(n.createdAt * 1000).toISOString()}</td>
        <td class="mono">${n.payload}</td>
      </tr>
    `
  );
  return {
    title: `Notifications on ${channel}`,
    nav: "notifications",
    channel,
    main: html`
      <h1>Notifications on <span class="mono">${channel}</span></h1>${form}
      <p class="muted">New notifications appear at the top as they are committed${raw(
        "&nbsp;",
      )}(live).</p>
      <section class="card">
        <table>
          <thead>
            <tr>
              <th>id</th>
              <th>sent (UTC)</th>
              <th>payload</th>
            </tr>
          </thead>
          <tbody id="tail">${rows}</tbody>
        </table>
      </section>
    `,
  };
}
