/**
 * The table of jobs the queue page and the dead letters page share, a page at a time, with
 * its pager.
 *
 * @module
 */

import { html, jsonShort, segment, when } from "./html.ts";
import type { Html } from "./html.ts";
import { actionForm } from "./layout.ts";
import type { PageContext } from "./layout.ts";
import type { JobView } from "./reads_jobs.ts";

/** Jobs per page. */
export const PAGE_SIZE = 50;

/** The page a request asks for (`?page=`): 1 unless it is a whole number above 1. */
export function pageNumber(ctx: PageContext): number {
  const page = Number(ctx.url.searchParams.get("page") ?? "1");
  return Number.isSafeInteger(page) && page >= 1 ? page : 1;
}

function jobRows(ctx: PageContext, jobs: JobView[], withQueue: boolean): Html {
  const now = ctx.snap.now;
  return html`${
    jobs.map((j) => {
      const requeue = j.state === "dead"
        ? actionForm(ctx, "requeue", { id: j.id }, "Requeue", { id: `requeue-${j.id}` })
        : html``;
      const detail = j.state === "dead"
        ? html`<span class="bad">${j.lastError ?? ""}</span>`
        : j.state === "processing"
        ? html`<span class="mono">${j.workerId ?? ""}</span>`
        : html``;
      return html`
        <tr
          data-job="${j.id}"><td><a href="${ctx.base}/queues/${segment(j.queue)}/jobs/${j.id}">#${j
            .id}</a></td>${withQueue ? html`<td>${j.queue}</td>` : html``}<td>${j
            .state}</td><td class="n">${j.priority}</td>
        <td>${j.state === "dead" ? when(j.diedAt, now) : when(j.runAt, now)}</td>
        <td class="n">${j.attempts}/${j.maxAttempts}</td><td class="mono">${jsonShort(
          j.payload,
          80,
        )}</td>
        <td>${detail}</td><td>${requeue}</td></tr>
      `;
    })
  }`;
}

/** The jobs as a table (with their queue when `withQueue`), or a note when there are none. */
export function jobTable(ctx: PageContext, jobs: JobView[], withQueue: boolean): Html {
  if (jobs.length === 0) return html`<p class="muted">No jobs here.</p>`;
  return html`
    <table>
      <thead>
        <tr><th>id</th>${withQueue ? html`<th>queue</th>` : html``}<th>state</th>
    <th class="n">priority</th><th>due / died</th><th class="n">attempts</th><th>payload</th><th>worker / error</th><th></th></tr>
      </thead>
      <tbody>${jobRows(ctx, jobs, withQueue)}</tbody>
    </table>
  `;
}

/** Links to the pages around `page`; `full` (this page is full) offers the next one. */
export function pager(ctx: PageContext, page: number, full: boolean): Html {
  const link = (n: number, label: string, id: string) => {
    const url = new URL(ctx.url);
    url.searchParams.set("page", String(n));
    url.searchParams.delete("done");
    url.searchParams.delete("error");
    return html`<a id="${id}" href="${url.pathname}${url.search}">${label}</a>`;
  };
  return html`<div class="toolbar">${
    page > 1 ? link(page - 1, "← newer page", "page-prev") : ""
  } <span class="muted">page ${page}</span> ${
    full ? link(page + 1, "next page →", "page-next") : ""
  }</div>`;
}
