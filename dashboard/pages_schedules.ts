/**
 * The schedules: their table (the overview shows it too) and the schedules page, with pause,
 * resume and run now.
 *
 * @module
 */

import { html, jsonShort, segment, when } from "./html.ts";
import type { Html } from "./html.ts";
import { actionForm, flash } from "./layout.ts";
import type { Page, PageContext } from "./layout.ts";
import { scheduleList } from "./reads_streams.ts";

/** The schedules as a table, with their actions when `withActions` (the overview has none). */
export function scheduleTable(ctx: PageContext, withActions: boolean): Html {
  const list = scheduleList(ctx.snap);
  if (list.length === 0) return html`<p class="muted">No schedules.</p>`;
  const rows = list.map((t) => {
    const id = segment(t.name);
    const actions = withActions
      ? html`<td>${
        t.enabled
          ? actionForm(ctx, "schedule-pause", { name: t.name }, "Pause", {
            id: `pause-schedule-${id}`,
          })
          : actionForm(ctx, "schedule-resume", { name: t.name }, "Resume", {
            id: `resume-schedule-${id}`,
          })
      } ${
        actionForm(ctx, "schedule-run", { name: t.name }, "Run now", { id: `run-schedule-${id}` })
      }</td>`
      : html``;
    return html`
      <tr
        data-schedule="${t.name}"><td>${t.name}</td><td><a href="${ctx.base}/queues/${segment(
          t.queue,
        )}">${t.queue}</a></td><td class="mono">${t.schedule}</td>
      <td>${t.enabled
        ? when(t.nextFireAt, ctx.snap.now)
        : html`<span class="badge paused">paused</span>`}</td>
      <td class="mono">${jsonShort(t.payload, 60)}</td>${actions}</tr>
    `;
  });
  const head = withActions && ctx.actions ? html`<th>actions</th>` : html``;
  return html`
    <table>
      <thead>
        <tr><th>name</th><th>queue</th><th>schedule</th><th>next fire</th><th>payload</th>${head}</tr>
      </thead>
      <tbody>${rows}</tbody>
    </table>
  `;
}

/** Schedules, with pause, resume and run now. */
export function schedulesPage(ctx: PageContext): Page {
  return {
    title: "Schedules",
    nav: "schedules",
    main: html`${flash(ctx)}<h1>Schedules</h1><section class="card">${
      scheduleTable(ctx, true)
    }</section>
<p class="muted">Run now enqueues the schedule's job at once; its next fire stays as it is.</p>`,
  };
}
