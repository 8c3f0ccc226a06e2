/**
 * The dead letters of every queue: each queue's count with requeue all and purge, and the
 * latest deaths a page at a time.
 *
 * @module
 */

import { html, num, segment } from "./html.ts";
import { actionForm, flash } from "./layout.ts";
import type { Page, PageContext } from "./layout.ts";
import { jobTable, PAGE_SIZE, pageNumber, pager } from "./job_table.ts";
import { deadPage } from "./reads_jobs.ts";
import { queueSummaries } from "./reads_queues.ts";

/** The dead letters of every queue, with requeue and purge. */
export function deadLettersPage(ctx: PageContext): Page {
  const page = pageNumber(ctx);
  const jobs = deadPage(ctx.snap, PAGE_SIZE, (page - 1) * PAGE_SIZE);
  const queues = queueSummaries(ctx.snap, { rates: false }).filter((q) => q.dead > 0);
  const perQueue = queues.length === 0 ? html`` : html`
    <section class="card">
      <table>
        <thead>
          <tr>
            <th>queue</th>
            <th class="n">dead</th>
            <th></th>
          </tr>
        </thead>
        <tbody>${queues.map((q) =>
          html`
            <tr data-queue="${q.name}">
              <td><a href="${ctx.base}/queues/${segment(q.name)}?state=dead">${q.name}</a></td>
              <td class="n">${num(q.dead)}</td>
              <td>${actionForm(ctx, "requeue-all", { queue: q.name }, "Requeue all", {
                id: `requeue-all-${segment(q.name)}`,
              })} ${actionForm(ctx, "purge", { queue: q.name }, "Purge", {
                id: `purge-${segment(q.name)}`,
                danger: true,
                confirm: true,
              })}</td>
            </tr>
          `
        )}</tbody>
      </table>
    </section>
  `;
  return {
    title: "Dead letters",
    nav: "dead",
    main: html`${flash(ctx)}<h1>Dead letters</h1>${perQueue}
<section class="card">${jobTable(ctx, jobs, true)}</section>${
      pager(ctx, page, jobs.length === PAGE_SIZE)
    }`,
  };
}
