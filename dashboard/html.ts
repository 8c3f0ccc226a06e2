/**
 * HTML without a template engine: a tagged template that escapes every interpolated value
 * unless it is already `Html`, so a payload, an error or a queue name is always rendered as
 * text (a job whose payload is `<script>alert(1)</script>` shows those characters). Also the
 * small formatters the pages share.
 *
 * @module
 */

/** Markup that is already safe: built by `html` or `raw` from trusted text. */
export class Html {
  /** The markup. */
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  /** The markup, for a Response body. */
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for HTML content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

function render(value: unknown): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join("");
  if (value === null || value === undefined || value === false) return "";
  return escapeHtml(String(value));
}

/** Builds markup; every interpolated value is escaped unless it is `Html` (arrays are joined). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new Html(out);
}

/** Trusted markup, as is (constant text written in this folder only). */
export function raw(text: string): Html {
  return new Html(text);
}

/** A path under the dashboard's base, with a query string from the defined entries. */
export function href(
  base: string,
  path: string,
  query: Record<string, string | number | undefined> = {},
): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== "") params.set(key, String(value));
  }
  const search = params.toString();
  return `${base}${path}${search === "" ? "" : `?${search}`}`;
}

/** A path segment for a name (queue, topic, schedule). */
export function segment(name: string): string {
  return encodeURIComponent(name);
}

/** A count with thousands separators. */
export function num(n: number): string {
  return n.toLocaleString("en-US");
}

/** A duration in seconds, short: `45s`, `12m`, `3h 5m`, `2d 4h`. */
export function duration(s: number): string {
  s = Math.max(0, Math.round(s));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/** A moment (unix seconds) relative to `now`, with the UTC time as its tooltip. */
export function when(at: number | null, now: number): Html {
  if (at === null) return html`<span class="muted">—</span>`;
  const iso = new Date(at * 1000).toISOString().replace(".000Z", "Z");
  const delta = at - now;
  const text = delta === 0
    ? "now"
    : delta > 0
    ? `in ${duration(delta)}`
    : `${duration(-delta)} ago`;
  return html`<time datetime="${iso}" title="${iso}">${text}</time>`;
}

/** Stored JSON text, indented when it parses (shown as text either way). */
export function jsonText(text: string | null): string {
  if (text === null) return "null";
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** Stored JSON text on one line, cut to `max` characters. */
export function jsonShort(text: string, max = 120): string {
  const chars = [...text.replace(/\s+/g, " ")];
  return chars.length <= max ? chars.join("") : `${chars.slice(0, max - 1).join("")}…`;
}
