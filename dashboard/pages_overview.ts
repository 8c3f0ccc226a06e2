/**
 * The overview (every queue, stream, schedule and lock held), the schedules page and the
 * notifications page.
 *
 * @module
 */

import { duration, html, jsonShort, num, raw, segment, when } from "./html.ts";
import type { Html } from "./html.ts";
import { actionForm } from "./layout.ts";
import type { Page, PageContext } from "./layout.ts";
import { COUNT_CAP, DEAD_SAMPLE, queueSummaries, RATE_WINDOW_S } from "./reads.ts";
import {
  channels,
  locksHeld,
  recentNotifications,
  scheduleList,
  streamSummaries,
} from "./reads_streams.ts";
import type { QueueSummary } from "./reads.ts";
import type { StreamSummary } from "./reads_streams.ts";
import { EVENTS_SCAN_MAX } from "./reads_events.ts";

/** Notifications a channel page shows before live ones arrive. */
const NOTIFICATIONS_SHOWN = 50;

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

function scheduleTable(ctx: PageContext, withActions: boolean): Html {
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

/** Flash message of a finished action (`?done=` or `?error=` after the redirect). */
export function flash(ctx: PageContext): Html {
  const done = ctx.url.searchParams.get("done");
  const error = ctx.url.searchParams.get("error");
  if (error) return html`<p class="flash error" role="alert">${error}</p>`;
  return done ? html`<p class="flash" role="status">${done}</p>` : html``;
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
