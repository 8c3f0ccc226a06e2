/**
 * A queue: its counts, its jobs by state with paging, pause/resume, dead-letter actions, and
 * search by id or unique key.
 *
 * @module
 */

import { duration, html, num, raw, segment } from "./html.ts";
import type { Html } from "./html.ts";
import { actionForm, flash } from "./layout.ts";
import type { Page, PageContext } from "./layout.ts";
import { jobTable, PAGE_SIZE, pageNumber, pager } from "./job_table.ts";
import { jobById, jobIdForKey, jobPage, PAGE_STATES } from "./reads_jobs.ts";
import type { PageState } from "./reads_jobs.ts";
import { queueSummary } from "./reads_queues.ts";

function searchForm(ctx: PageContext, queue: string): Html {
  return html`<form method="get" action="${ctx.base}/queues/${
    segment(queue)
  }/find" class="toolbar" role="search">
<label for="find">Find a job</label><input type="search" id="find" name="q" placeholder="id or unique key">
<button id="find-go">Find</button></form>`;
}

/** A queue: counts, jobs of one state a page at a time, pause/resume, dead-letter actions. */
export function queuePage(ctx: PageContext, queue: string): Page {
  const state = (PAGE_STATES as readonly string[]).includes(ctx.url.searchParams.get("state") ?? "")
    ? ctx.url.searchParams.get("state") as PageState
    : "pending";
  const page = pageNumber(ctx);
  const q = queueSummary(ctx.snap, queue);
  const jobs = jobPage(ctx.snap, queue, state, PAGE_SIZE, (page - 1) * PAGE_SIZE);
  const tabs = PAGE_STATES.map((s) =>
    html`
      <a id="tab-${s}" href="${ctx.base}/queues/${segment(queue)}?state=${s}"
        ${raw(s === state ? ' aria-current="page"' : "")}>${s} <span data-count="${s}">${num(
          q[s],
        )}</span></a>
    `
  );
  const id = segment(queue);
  const pause = q.paused
    ? actionForm(ctx, "queue-resume", { queue }, "Resume queue", { id: `resume-queue-${id}` })
    : actionForm(ctx, "queue-pause", { queue }, "Pause queue", { id: `pause-queue-${id}` });
  const deadActions = state === "dead" && q.dead > 0
    ? html`<div class="toolbar">${
      actionForm(ctx, "requeue-all", { queue }, `Requeue all ${num(q.dead)}`, {
        id: `requeue-all-${id}`,
      })
    } ${
      actionForm(ctx, "purge", { queue }, "Purge dead letters", {
        id: `purge-${id}`,
        danger: true,
        confirm: true,
      })
    }</div>`
    : html``;
  return {
    title: `Queue ${queue}`,
    nav: "",
    main: html`
      ${flash(ctx)}<h1>Queue <span class="mono">${queue}</span>${q.paused
        ? html`
          <span class="badge paused">paused</span>
        `
        : ""}</h1>
      <div
        class="toolbar">${pause}<span class="muted">oldest pending: ${q.oldestPendingAgeS === null
          ? "—"
          : duration(q.oldestPendingAgeS)}</span></div>${searchForm(ctx, queue)}
      <nav class="tabs" aria-label="Job states">${tabs}</nav>${deadActions}
      <section class="card">${jobTable(ctx, jobs, false)}</section>${pager(
        ctx,
        page,
        jobs.length === PAGE_SIZE,
      )}
    `,
  };
}

/** Where a search for `q` in `queue` leads: a job's page, or null when nothing matches. */
export function findJob(
  ctx: PageContext,
  queue: string,
  q: string,
): number | null {
  const text = q.trim().replace(/^#/, "");
  if (/^[0-9]+$/.test(text)) {
    const job = jobById(ctx.snap, Number(text));
    if (job && job.queue === queue) return job.id;
  }
  return text === "" ? null : jobIdForKey(ctx.snap, queue, q.trim());
}
