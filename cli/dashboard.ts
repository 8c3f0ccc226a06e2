/**
 * `dashboard`: serves the web dashboard (`honker-ts/dashboard`) for a file until Ctrl-C or
 * SIGTERM. Read-only by default, on a read-only connection that never changes the file; with
 * `--allow-actions` it opens the file with `open()` and the pages get their action buttons.
 * Binds 127.0.0.1 unless `--host` says otherwise.
 *
 * @module
 */

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { CliError, EXIT_OK, note, print, stopOnSignals, UsageError } from "./_cli.ts";
import type { Command, Values } from "./_cli.ts";
import { inspect, openExisting } from "./_file.ts";

/** The port when `--port` is not given. */
export const DASHBOARD_PORT_DEFAULT = 7070;

function portOf(values: Values): number {
  if (values.port === undefined) return DASHBOARD_PORT_DEFAULT;
  const text = String(values.port);
  const port = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(port) || port > 65535) {
    throw new UsageError(`--port must be 0 to 65535, got ${JSON.stringify(text)}`, "dashboard");
  }
  return port;
}

async function runDashboard([file]: string[], values: Values): Promise<number> {
  const port = portOf(values);
  const host = values.host === undefined ? "127.0.0.1" : String(values.host);
  const actions = values["allow-actions"] === true;
  const { driver } = await inspect(file); // the CLI's checks and messages for a bad file
  driver.close();
  const { dashboard, openReadOnly, toNodeListener } = await import("../dashboard/mod.ts");
  const db = actions ? await openExisting(file) : await openReadOnly(file);
  const stop = stopOnSignals();
  const server = createServer(toNodeListener(dashboard(db, { actions })));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
  } catch (error) {
    stop.dispose();
    db.close();
    throw new CliError(`Cannot listen on ${host}:${port}: ${(error as Error).message}`);
  }
  const address = server.address() as AddressInfo;
  const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
  note(
    "dashboard",
    `serving ${JSON.stringify(file)} ${actions ? "with actions allowed" : "read-only"}`,
  );
  print(`http://${shown}:${address.port}/`);
  await new Promise<void>((resolve) =>
    stop.signal.addEventListener("abort", () => resolve(), { once: true })
  );
  server.closeAllConnections?.();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  stop.dispose();
  db.close();
  return EXIT_OK;
}

/** `honker-ts dashboard FILE`. */
export const dashboardCommand: Command = {
  name: "dashboard",
  summary: "serve the web dashboard for the file",
  args: "FILE",
  arity: [1, 1],
  description: "Serves a live web dashboard of FILE (queues, jobs, dead letters, streams,\n" +
    "schedules, notifications) until Ctrl-C or SIGTERM, and prints its URL. Without\n" +
    "--allow-actions it only reads: the file is opened read-only and never changed. Binds\n" +
    "127.0.0.1 unless --host says otherwise (anyone who can reach the port can read\n" +
    "every payload).",
  flags: {
    port: {
      type: "string",
      help: "--port N        listen on port N (default 7070; 0: any free port)",
    },
    host: { type: "string", help: "--host ADDR     listen on ADDR (default 127.0.0.1)" },
    "allow-actions": {
      type: "boolean",
      help: "--allow-actions  allow requeue, purge, pause, resume, run now, remove consumer",
    },
  },
  run: runDashboard,
};
