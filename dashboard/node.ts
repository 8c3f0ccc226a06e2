/**
 * Mounts a Fetch API handler on Node's `http` server: the request becomes a `Request` (its
 * signal aborted when the client goes away), the `Response` is streamed back chunk by chunk,
 * so Server-Sent Events reach the browser as they are written.
 *
 * @module
 */

import type { IncomingMessage, ServerResponse } from "node:http";

/** The largest request body read (action forms are a few hundred bytes). */
const BODY_MAX_BYTES = 1 << 20;

/** A Node `http` request listener. */
export type NodeListener = (request: IncomingMessage, response: ServerResponse) => void;

async function readBody(req: IncomingMessage): Promise<Uint8Array<ArrayBuffer> | null> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > BODY_MAX_BYTES) return null;
    chunks.push(chunk);
  }
  const body = new Uint8Array(new ArrayBuffer(size));
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.length;
  }
  return body;
}

function toRequest(
  req: IncomingMessage,
  body: Uint8Array<ArrayBuffer> | undefined,
  signal: AbortSignal,
): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) { for (const v of value) headers.append(name, v); }
    else if (value !== undefined) headers.set(name, value);
  }
  const secure = (req.socket as { encrypted?: boolean }).encrypted === true;
  const url = `${secure ? "https" : "http"}://${req.headers.host ?? "localhost"}${req.url ?? "/"}`;
  return new Request(url, { method: req.method, headers, body, signal });
}

function writeHead(res: ServerResponse, response: Response): void {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") headers[name] = value;
  });
  const cookies = response.headers.getSetCookie?.() ?? [];
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  res.writeHead(response.status, headers);
  res.flushHeaders();
}

async function respond(
  handler: (request: Request) => Promise<Response>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const gone = new AbortController();
  res.on("close", () => gone.abort());
  const method = req.method ?? "GET";
  const body = method === "GET" || method === "HEAD" ? undefined : await readBody(req);
  if (body === null) {
    res.writeHead(413, { "content-type": "text/plain; charset=utf-8" }).end(
      "Request body too large\n",
    );
    return;
  }
  const response = await handler(toRequest(req, body, gone.signal));
  writeHead(res, response);
  if (response.body === null || method === "HEAD") {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  gone.signal.addEventListener("abort", () => reader.cancel().catch(() => {}), { once: true });
  for (;;) {
    const { done, value } = await reader.read();
    if (done || gone.signal.aborted) break;
    if (!res.write(value)) await new Promise((resolve) => res.once("drain", resolve));
  }
  res.end();
}

/**
 * Adapts a Fetch API handler (such as `dashboard()`'s) to Node's `http.createServer()`.
 *
 * @param handler The handler.
 * @returns A request listener for `http.createServer()` (or `server.on("request", …)`).
 *
 * @example Serve the dashboard with node:http
 * ```ts ignore
 * import { createServer } from "node:http";
 * import { dashboard, toNodeListener } from "honker-ts/dashboard";
 *
 * createServer(toNodeListener(dashboard(db))).listen(7070, "127.0.0.1");
 * ```
 */
export function toNodeListener(handler: (request: Request) => Promise<Response>): NodeListener {
  return (req, res) => {
    respond(handler, req, res).catch((error) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
      res.end(`Error: ${(error as Error)?.message ?? error}\n`);
    });
  };
}
