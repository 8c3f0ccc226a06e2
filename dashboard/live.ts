/**
 * Live updates: Server-Sent Events driven by the wake-up layer. One loop per handler waits on
 * `db.updates()` (a commit by any process, confirmed by `PRAGMA data_version`), and only while
 * at least one browser is connected; each hint is passed to every connected page, at most
 * every LIVE_MIN_INTERVAL_MS (later hints within that time are folded into one trailing
 * event). A notification tail reads its channel's new rows on each hint. An idle open dashboard
 * therefore costs what an idle worker costs: a parked wait, no timer in the browser.
 *
 * @module
 */

import type { SqliteDriver } from "../core/db/driver.ts";
import { channelLastId, notificationsAfter } from "./reads_streams.ts";

/** The least time between two change events a page receives. */
export const LIVE_MIN_INTERVAL_MS = 200;
/** A comment line this often keeps an idle stream open (Bun.serve closes a connection idle for 10 s by default; proxies too). */
export const LIVE_KEEPALIVE_MS = 8_000;
/** After the change feed fails (the file replaced), wait this long before watching again. */
const RESTART_MS = 1000;
/** Notifications sent per read while a tail catches up. */
const TAIL_PAGE = 200;

/** What the live loop needs of a database: its connection and its change hints. */
export interface ChangeFeed {
  /** The connection the pages read through. */
  readonly driver: SqliteDriver;
  /** Change hints: one per commit (or batch of commits) from any process. */
  updates(options?: { signal?: AbortSignal }): AsyncIterableIterator<number>;
}

interface Client {
  changed(): void;
  close(): void;
}

const encoder = new TextEncoder();

/** The change loop of one handler and the browsers connected to it. */
export class LiveHub {
  readonly #feed: ChangeFeed;
  readonly #clients = new Set<Client>();
  #stop: AbortController | undefined;
  #lastSent = 0;
  #trailing: ReturnType<typeof setTimeout> | undefined;

  constructor(feed: ChangeFeed) {
    this.#feed = feed;
  }

  /** How many browsers are connected. */
  get clients(): number {
    return this.#clients.size;
  }

  /** An SSE response: change events, or with a channel the channel's new notifications. */
  stream(request: Request, channel: string | null): Response {
    let client: Client | undefined;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        client = this.#client(controller, channel);
        this.#add(client);
        request.signal?.addEventListener("abort", () => this.#remove(client!), { once: true });
      },
      cancel: () => {
        if (client) this.#remove(client);
      },
    });
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
      },
    });
  }

  /** Ends every stream and the loop. */
  close(): void {
    for (const client of [...this.#clients]) this.#remove(client);
  }

  #client(controller: ReadableStreamDefaultController<Uint8Array>, channel: string | null): Client {
    let open = true;
    const send = (text: string) => {
      if (!open) return;
      try {
        controller.enqueue(encoder.encode(text));
      } catch {
        open = false;
      }
    };
    const keepAlive = setInterval(() => send(": keep-alive\n\n"), LIVE_KEEPALIVE_MS);
    (keepAlive as { unref?: () => void }).unref?.();
    let lastId = channel === null ? 0 : channelLastId(this.#feed.driver, channel);
    send("retry: 2000\n\n: connected\n\n");
    return {
      changed: () => {
        if (channel === null) return send(`event: change\ndata: ${Date.now()}\n\n`);
        for (;;) {
          const rows = notificationsAfter(this.#feed.driver, channel, lastId, TAIL_PAGE);
          for (const n of rows) {
            send(`event: notification\ndata: ${JSON.stringify(n)}\n\n`);
            lastId = n.id;
          }
          if (rows.length < TAIL_PAGE) return;
        }
      },
      close: () => {
        open = false;
        clearInterval(keepAlive);
        try {
          controller.close();
        } catch {
          // Already closed or cancelled by the browser.
        }
      },
    };
  }

  #add(client: Client): void {
    this.#clients.add(client);
    if (this.#stop === undefined) this.#run();
  }

  #remove(client: Client): void {
    if (!this.#clients.delete(client)) return;
    client.close();
    if (this.#clients.size === 0) {
      this.#stop?.abort();
      this.#stop = undefined;
      clearTimeout(this.#trailing);
      this.#trailing = undefined;
    }
  }

  #broadcast(): void {
    const wait = this.#lastSent + LIVE_MIN_INTERVAL_MS - Date.now();
    if (wait > 0) {
      this.#trailing ??= setTimeout(() => {
        this.#trailing = undefined;
        this.#broadcast();
      }, wait);
      return;
    }
    this.#lastSent = Date.now();
    for (const client of [...this.#clients]) {
      try {
        client.changed();
      } catch {
        this.#remove(client); // its read failed: the database closed under it
      }
    }
  }

  async #run(): Promise<void> {
    const stop = new AbortController();
    this.#stop = stop;
    while (!stop.signal.aborted) {
      try {
        for await (const _ of this.#feed.updates({ signal: stop.signal })) this.#broadcast();
        if (!stop.signal.aborted) return this.close(); // the database was closed
      } catch (error) {
        if ((error as Error)?.name === "DatabaseClosedError") return this.close();
        await new Promise((resolve) => setTimeout(resolve, RESTART_MS));
      }
    }
  }
}
