/**
 * A job: every field, its payload, error, progress, result and events; for a job no longer
 * live or dead, what it left behind.
 *
 * @module
 */

import { html, jsonShort, jsonText, num, segment, when } from "./html.ts";
import type { Html } from "./html.ts";
import { actionForm, flash } from "./layout.ts";
import type { Page, PageContext } from "./layout.ts";
import { jobById, jobEvents, jobFacts, jobResult } from "./reads_jobs.ts";
import type { JobEventView, JobView } from "./reads_jobs.ts";
import { EVENTS_SCAN_MAX, jobProgress } from "./reads_events.ts";

/** Events a job page shows. */
const EVENTS_SHOWN = 200;

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
