/**
 * A queue (jobs by state with paging, search by id), a job (payload, attempts, errors, result,
 * events), and the dead letters of every queue.
 *
 * @module
 */

import { duration, html, jsonShort, jsonText, num, raw, segment, when } from "./html.ts";
import type { Html } from "./html.ts";
import { actionForm } from "./layout.ts";
import type { Page, PageContext } from "./layout.ts";
import { flash } from "./pages_overview.ts";
import {
  deadPage,
  jobById,
  jobEvents,
  jobFacts,
  jobIdForKey,
  jobPage,
  jobResult,
  PAGE_STATES,
  queueSummaries,
  queueSummary,
} from "./reads.ts";
import type { JobEventView, JobView, PageState } from "./reads.ts";
import { EVENTS_SCAN_MAX, jobProgress } from "./reads_events.ts";

/** Jobs per page. */
export const PAGE_SIZE = 50;
/** Events a job page shows. */
const EVENTS_SHOWN = 200;

function pageNumber(ctx: PageContext): number {
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

function jobTable(ctx: PageContext, jobs: JobView[], withQueue: boolean): Html {
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

function pager(ctx: PageContext, page: number, full: boolean): Html {
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

function fields(ctx: PageContext, j: JobView, facts: Array<[string, string]>): Html {
  const now = ctx.snap.now;
  const row = (name: string, value: unknown) =>
    html`
      <dt>${name}</dt>
      <dd>${value}</dd>
    `;
  return html`
    <dl
      class="fields">${row("state", j.state)}${row("priority", j.priority)}${row(
        "attempts",
        `${j.attempts} of ${j.maxAttempts}`,
      )}${row("created", when(j.createdAt, now))}${row(
        "due",
        when(j.runAt, now),
      )}${j.workerId === null ? "" : row("worker", j.workerId)}${j.claimExpiresAt === null
        ? ""
        : row("claim expires", when(j.claimExpiresAt, now))}${j.expiresAt === null
        ? ""
        : row("expires", when(j.expiresAt, now))}${j.diedAt === null
        ? ""
        : row("died", when(j.diedAt, now))}${facts.map(([name, value]) => row(name, value))}</dl>
  `;
}

function eventTable(ctx: PageContext, events: JobEventView[], complete: boolean): Html {
  const more = complete
    ? html``
    : html`<p class="muted">Searched ${num(EVENTS_SCAN_MAX / 2)} events from its enqueue on and the
newest ${num(EVENTS_SCAN_MAX / 2)}: events in between are not shown.</p>`;
  if (events.length === 0) {
    return html`<p class="muted">No events recorded for this job.</p>${more}`;
  }
  const rows = events.map((e) =>
    html`
      <tr>
        <td>#${e.id}</td>
        <td>${e.type}</td>
        <td class="n">${e.attempt}</td>
        <td>${when(e.createdAt, ctx.snap.now)}</td>
        <td class="mono">${e.data === null ? "" : jsonShort(e.data, 200)}</td>
      </tr>
    `
  );
  return html`
    <table>
      <thead>
        <tr>
          <th>id</th>
          <th>type</th>
          <th class="n">attempt</th>
          <th>when</th>
          <th>data</th>
        </tr>
      </thead>
      <tbody id="events">${rows}</tbody>
    </table>${more}
  `;
}

function gone(ctx: PageContext, queue: string, id: number): Page {
  const result = jobResult(ctx.snap, id);
  const { events, complete } = jobEvents(ctx.snap, null, id, EVENTS_SHOWN);
  if (result === null && events.length === 0) {
    return {
      title: "No such job",
      nav: "",
      status: 404,
      main: html`<h1>No job #${id} in queue <span class="mono">${queue}</span></h1>
<p>It may have completed (completed jobs leave the live table) or been purged.</p>`,
    };
  }
  const last = events.at(-1);
  return {
    title: `Job ${id}`,
    nav: "",
    main: html`
      <h1>Job #${id} in <a href="${ctx.base}/queues/${segment(queue)}">${queue}</a></h1>
      <p>No longer live or dead${last
        ? html`: <strong>${last.type}</strong> ${when(last.createdAt, ctx.snap.now)}`
        : ""}.</p>
      <h2>Result</h2>
      <section class="card">${result === null
        ? html`<p class="muted">No result stored.</p>`
        : html`<pre id="result">${jsonText(result.value)}</pre>`}</section>
      <h2>Events</h2>
      <section class="card">${eventTable(ctx, events, complete)}</section>
    `,
  };
}

/** A job: every field, its payload, error, progress, result and events. */
export function jobPageView(ctx: PageContext, queue: string, id: number): Page {
  const j = jobById(ctx.snap, id);
  if (j === null || j.queue !== queue) return gone(ctx, queue, id);
  const result = jobResult(ctx.snap, id);
  const progress = jobProgress(ctx.snap, id);
  const { events, complete } = jobEvents(ctx.snap, j, id, EVENTS_SHOWN);
  const requeue = j.state === "dead"
    ? actionForm(ctx, "requeue", { id: j.id }, "Requeue", { id: `requeue-${j.id}` })
    : html``;
  return {
    title: `Job ${id}`,
    nav: "",
    main: html`
      ${flash(ctx)}<h1>Job #${id} in <a href="${ctx.base}/queues/${segment(queue)}?state=${j
        .state}">${queue}</a></h1>
      <div class="toolbar">${requeue}</div>
      <section class="card">${fields(ctx, j, jobFacts(ctx.snap, queue, j.id))}</section>
      <h2>Payload</h2><section class="card">
        <pre id="payload">${jsonText(j.payload)}</pre>
      </section>
      ${j.lastError === null ? "" : html`
        <h2>Last error</h2>
        <section class="card">
          <pre class="bad">${j.lastError}</pre>
        </section>
      `}
      ${progress === null ? "" : html`
        <h2>Progress</h2>
        <section class="card">
          <pre id="progress">${jsonText(progress.value)}</pre>
          <p class="muted">reported ${when(progress.updatedAt, ctx.snap.now)}</p>
        </section>
      `}
      <h2>Result</h2><section class="card">${result === null
        ? html`<p class="muted">No result stored.</p>`
        : html`<pre id="result">${jsonText(result.value)}</pre>`}</section>
      <h2>Events</h2><section class="card">${eventTable(ctx, events, complete)}</section>
    `,
  };
}

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
