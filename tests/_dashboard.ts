/** Helpers for the dashboard tests: a browser-less client with a cookie jar, SSE reading. */

import type { DashboardHandler } from "../dashboard/mod.ts";

/** A client of one handler that keeps its session cookie, as a browser does. */
export class Client {
  readonly #handler: DashboardHandler;
  readonly origin: string;
  cookie = "";

  constructor(handler: DashboardHandler, origin = "http://127.0.0.1:7070") {
    this.#handler = handler;
    this.origin = origin;
  }

  /** Sends a request for `path`, with the session cookie once there is one. */
  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookie !== "" && !headers.has("cookie")) headers.set("cookie", this.cookie);
    const response = await this.#handler(
      new Request(`${this.origin}${path}`, { ...init, headers }),
    );
    const set = response.headers.get("set-cookie");
    if (set) this.cookie = set.split(";")[0];
    return response;
  }

  /** GETs a page and returns its status and HTML. */
  async page(path: string): Promise<{ status: number; html: string }> {
    const response = await this.request(path);
    return { status: response.status, html: await response.text() };
  }

  /** The CSRF token the page at `path` puts in its forms ("" when it has none). */
  async token(path = "/"): Promise<string> {
    const { html } = await this.page(path);
    return /name="csrf" value="([0-9a-f]+)"/.exec(html)?.[1] ?? "";
  }

  /** POSTs an action form; returns the response (303 on success, 403 when refused). */
  post(path: string, fields: Record<string, string>): Promise<Response> {
    return this.request(path, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: this.origin },
      body: new URLSearchParams(fields).toString(),
    });
  }
}

/** Reads an SSE body as it arrives; `until()` waits for a pattern in what came since `skip()`. */
export class SseReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #text = "";
  #pending: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;

  constructor(response: Response) {
    this.#reader = response.body!.getReader();
  }

  /** Forgets what has arrived so far. */
  skip(): void {
    this.#text = "";
  }

  /** Resolves with the text once `pattern` shows up, or throws after `timeoutMs`. */
  async until(pattern: RegExp, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.#text)) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`no ${pattern} within ${timeoutMs} ms; got ${JSON.stringify(this.#text)}`);
      }
      this.#pending ??= this.#reader.read();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const chunk = await Promise.race([
        this.#pending,
        new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), left))),
      ]);
      clearTimeout(timer);
      if (chunk === "timeout") continue;
      this.#pending = undefined;
      if (chunk.done) {
        throw new Error(`stream ended before ${pattern}: ${JSON.stringify(this.#text)}`);
      }
      this.#text += this.#decoder.decode(chunk.value, { stream: true });
    }
    return this.#text;
  }

  /** Waits `ms`, collecting what arrives, then forgets it. */
  async settle(ms: number): Promise<void> {
    await this.until(/$^never/, ms).catch(() => {});
    this.skip();
  }

  /** Cancels the stream (the browser going away). */
  async close(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }
}

/** Where a redirect after an action points, and what it says (`done` or `error`). */
export function outcome(response: Response): { done: string | null; error: string | null } {
  const url = new URL(response.headers.get("location") ?? "/", "http://x");
  return { done: url.searchParams.get("done"), error: url.searchParams.get("error") };
}

/** The number in the cell `data-count="<state>"` of the row of `queue` on the overview. */
export function overviewCount(html: string, queue: string, state: string): number {
  const row = new RegExp(`<tr data-queue="${queue}">([\\s\\S]*?)</tr>`).exec(html)?.[1] ?? "";
  const cell = new RegExp(`data-count="${state}"[^>]*>\\s*(?:<a[^>]*>)?\\s*([0-9,]+)`).exec(row);
  return cell ? Number(cell[1].replace(/,/g, "")) : Number.NaN;
}
