/**
 * A stream: its offsets, its consumers with their lag (and remove), its recent events.
 *
 * @module
 */

import { html, jsonShort, num, when } from "./html.ts";
import { actionForm, flash } from "./layout.ts";
import type { Page, PageContext } from "./layout.ts";
import { COUNT_CAP } from "./reads.ts";
import { recentEvents, streamSummaries } from "./reads_streams.ts";

/** Events a stream page shows. */
const EVENTS_SHOWN = 50;

/** One stream. */
export function streamPage(ctx: PageContext, topic: string): Page {
  const stream = streamSummaries(ctx.snap).find((s) => s.topic === topic) ??
    { topic, firstOffset: null, lastOffset: null, consumers: [] };
  const beforeParam = Number(ctx.url.searchParams.get("before") ?? "");
  const before = Number.isSafeInteger(beforeParam) && beforeParam > 0
    ? beforeParam
    : Number.MAX_SAFE_INTEGER;
  const events = recentEvents(ctx.snap, topic, before, EVENTS_SHOWN);
  const consumers = stream.consumers.length === 0 ? html`<p class="muted">No consumers.</p>` : html`
    <table>
      <thead>
        <tr>
          <th>consumer</th>
          <th class="n">offset</th>
          <th class="n">lag</th>
          <th></th>
        </tr>
      </thead>
      <tbody>${stream.consumers.map((c) =>
        html`
          <tr data-consumer="${c.name}">
            <td class="mono">${c.name}</td>
            <td class="n">${num(c.offset)}</td>
            <td class="n">${c.lagEstimated
              ? html`<span title="estimated from offsets: more than ${num(COUNT_CAP)} events">≈${
                num(c.lag)
              }</span>`
              : num(c.lag)}</td>
            <td>${actionForm(ctx, "remove-consumer", { topic, consumer: c.name }, "Remove", {
              id: `remove-consumer-${encodeURIComponent(c.name)}`,
              danger: true,
              confirm: true,
            })}</td>
          </tr>
        `
      )}</tbody>
    </table>
  `;
  const rows = events.map((e) =>
    html`
      <tr>
        <td class="n">${num(e.offset)}</td>
        <td class="mono">${e.key ?? ""}</td>
        <td>${when(e.createdAt, ctx.snap.now)}</td>
        <td class="mono">${jsonShort(e.payload, 160)}</td>
      </tr>
    `
  );
  const last = events.at(-1);
  const older = last !== undefined && events.length === EVENTS_SHOWN
    ? html`<a id="older-events" href="${ctx.base}/streams/${
      encodeURIComponent(topic)
    }?before=${last.offset}">older events →</a>`
    : html``;
  return {
    title: `Stream ${topic}`,
    nav: "",
    main: html`${flash(ctx)}<h1>Stream <span class="mono">${topic}</span></h1>
<p class="muted">Offsets ${stream.firstOffset === null ? "—" : num(stream.firstOffset)} to ${
      stream.lastOffset === null ? "—" : num(stream.lastOffset)
    } stored.</p>
<h2>Consumers</h2><section class="card">${consumers}</section>
<h2>Recent events</h2><section class="card">${
      events.length === 0 ? html`<p class="muted">No events.</p>` : html`
        <table>
          <thead>
            <tr>
              <th class="n">offset</th>
              <th>key</th>
              <th>published</th>
              <th>payload</th>
            </tr>
          </thead>
          <tbody>${rows}</tbody>
        </table>
      `
    }</section>${older}`,
  };
}
