/**
 * The overview: every queue, stream, schedule and lock held.
 *
 * @module
 */

import { duration, html, num, segment, when } from "./html.ts";
import type { Html } from "./html.ts";
import { flash } from "./layout.ts";
import type { Page, PageContext } from "./layout.ts";
import { scheduleTable } from "./pages_schedules.ts";
import { COUNT_CAP } from "./reads.ts";
import { DEAD_SAMPLE, queueSummaries, RATE_WINDOW_S } from "./reads_queues.ts";
import type { QueueSummary } from "./reads_queues.ts";
import { locksHeld, streamSummaries } from "./reads_streams.ts";
import type { StreamSummary } from "./reads_streams.ts";
import { EVENTS_SCAN_MAX } from "./reads_events.ts";

function failureRate(q: QueueSummary): Html {
  if (q.completedPerMin === null) return html`${q.deadRecent === 0 ? "—" : `${q.deadRecent} died`}`;
  const completed = (q.completedPerMin * RATE_WINDOW_S) / 60;
  const finished = completed + q.deadRecent;
  const rate = finished === 0 ? "0%" : `${((100 * q.deadRecent) / finished).toFixed(1)}%`;
  return estimate(q.ratesEstimated, rate);
}

function throughput(q: QueueSummary): Html {
  if (q.completedPerMin === null) return html`—`;
  return estimate(q.ratesEstimated, `${q.completedPerMin.toFixed(1)}/min`);
}

function estimate(estimated: boolean, text: string): Html {
  return estimated
    ? html`
      <span
        title="estimated: more than ${num(
          EVENTS_SCAN_MAX,
        )} events in the window; rates over the newest ones">≈${text}</span>
    `
    : html`${text}`;
}

function deadCell(ctx: PageContext, q: QueueSummary): Html {
  if (q.dead === 0) return html`0`;
  const link = html`<a href="${ctx.base}/queues/${segment(q.name)}?state=dead">${num(q.dead)}</a>`;
  return q.deadEstimated
    ? html`
      <span
        title="estimated: more than ${num(
          DEAD_SAMPLE,
        )} dead letters, scaled from the newest">≈</span>${link}
    `
    : link;
}

function queueRows(ctx: PageContext, queues: QueueSummary[]): Html {
  if (queues.length === 0) return html`<p class="muted">No queues in this file yet.</p>`;
  const minutes = RATE_WINDOW_S / 60;
  const rows = queues.map((q) =>
    html`
      <tr data-queue="${q.name}">
        <td><a href="${ctx.base}/queues/${segment(q.name)}">${q.name}</a>${q.paused
          ? html`
            <span class="badge paused">paused</span>
          `
          : ""}</td>
        <td class="n" data-count="pending">${num(q.pending)}</td>
        <td class="n" data-count="scheduled">${num(q.scheduled)}</td>
        <td class="n" data-count="processing">${num(q.processing)}</td>
        <td class="n" data-count="dead">${deadCell(ctx, q)}</td>
        <td class="n">${q.oldestPendingAgeS === null ? "—" : duration(q.oldestPendingAgeS)}</td>
        <td class="n" data-rate="throughput">${throughput(q)}</td>
        <td class="n" data-rate="failures">${failureRate(q)}</td>
      </tr>
    `
  );
  const note = queues.some((q) => q.completedPerMin === null)
    ? html`<p class="muted">Throughput and failure rate need job events (<code>db.queue(name,
{ events: true })</code>); without them, failures count the jobs that died in the last ${minutes}
minutes.</p>`
    : html``;
  return html`
    <table>
      <thead>
        <tr>
          <th>queue</th>
          <th class="n">pending</th>
          <th class="n">scheduled</th>
          <th class="n">processing</th>
          <th class="n">dead</th>
          <th class="n">oldest pending</th>
          <th class="n">throughput (${minutes} min)</th>
          <th class="n">failure rate</th>
        </tr>
      </thead>
      <tbody>${rows}</tbody>
    </table>${note}
  `;
}

function lagText(lag: number, estimated: boolean): Html {
  return estimated
    ? html`
      <span
        title="estimated from offsets: more than ${num(COUNT_CAP)} events, an upper bound">≈${num(
          lag,
        )}</span>
    `
    : html`${num(lag)}`;
}

function streamRows(ctx: PageContext, streams: StreamSummary[]): Html {
  if (streams.length === 0) return html`<p class="muted">No streams in this file yet.</p>`;
  const rows = streams.map((s) => {
    const consumers = s.consumers.length === 0
      ? html`<span class="muted">none</span>`
      : s.consumers.map((c) =>
        html`<div><span class="mono">${c.name}</span> at ${num(c.offset)}, lag ${
          lagText(c.lag, c.lagEstimated)
        }</div>`
      );
    return html`
      <tr data-topic="${s.topic}">
        <td><a href="${ctx.base}/streams/${segment(s.topic)}">${s.topic}</a></td>
        <td class="n">${s.lastOffset === null ? "—" : num(s.lastOffset)}</td>
        <td>${consumers}</td>
      </tr>
    `;
  });
  return html`
    <table>
      <thead>
        <tr>
          <th>stream</th>
          <th class="n">last offset</th>
          <th>consumers (offset, lag)</th>
        </tr>
      </thead>
      <tbody>${rows}</tbody>
    </table>
  `;
}

function lockTable(ctx: PageContext): Html {
  const locks = locksHeld(ctx.snap);
  if (locks.length === 0) return html`<p class="muted">No locks held.</p>`;
  return html`
    <table>
      <thead>
        <tr>
          <th>lock</th>
          <th>owner</th>
          <th>expires</th>
        </tr>
      </thead>
      <tbody>${locks.map((l) =>
        html`
          <tr>
            <td>${l.name}</td>
            <td class="mono">${l.owner}</td>
            <td>${when(l.expiresAt, ctx.snap.now)}</td>
          </tr>
        `
      )}</tbody>
    </table>
  `;
}

/** The overview. */
export function overviewPage(ctx: PageContext): Page {
  return {
    title: "Overview",
    nav: "overview",
    main: html`${flash(ctx)}<h1>Overview</h1>
<h2 id="queues">Queues</h2><section class="card">${
      queueRows(ctx, queueSummaries(ctx.snap, { rates: true }))
    }</section>
<h2 id="streams">Streams</h2><section class="card">${
      streamRows(ctx, streamSummaries(ctx.snap))
    }</section>
<h2 id="schedules">Schedules</h2><section class="card">${scheduleTable(ctx, false)}</section>
<h2 id="locks">Locks held</h2><section class="card">${lockTable(ctx)}</section>`,
  };
}
