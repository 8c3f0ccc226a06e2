/**
 * Human output: aligned tables that fit the terminal (80 columns when stdout is not one), and
 * short renderings of durations, times and payloads.
 *
 * @module
 */

import process from "node:process";

/** A table column. */
export interface Column {
  header: string;
  /** Numbers read best right-aligned. */
  align?: "left" | "right";
  /**
   * Whether the column may be cut to fit the width: `true`, or a number, higher cut first (down
   * to `min`) before lower ones; among equals the widest is cut first. Others keep their width.
   */
  shrink?: boolean | number;
  /** The narrowest a shrinking column gets. Defaults to 8 (or its header's width). */
  min?: number;
}

const GAP = "  ";
const SHRINK_MIN = 8;

/** The width to fit: the terminal's, or $COLUMNS, or 80. */
export function outputWidth(): number {
  const columns = process.stdout.isTTY ? process.stdout.columns : Number(process.env.COLUMNS);
  return Number.isInteger(columns) && columns >= 40 ? columns : 80;
}

/** Whether stdout is a terminal. */
export function isTty(): boolean {
  return process.stdout.isTTY === true;
}

function width(text: string): number {
  return [...text].length;
}

/** Cuts `text` to `max` characters, ending with "…" when cut. */
export function cut(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, Math.max(0, max - 1)).join("")}…`;
}

function pad(text: string, size: number, align: "left" | "right"): string {
  const fill = " ".repeat(Math.max(0, size - width(text)));
  return align === "right" ? fill + text : text + fill;
}

/** Renders rows under their headers, cutting the shrinkable columns to fit `maxWidth`. */
export function table(columns: Column[], rows: string[][], maxWidth = outputWidth()): string {
  rows = rows.map((row) => row.map((cell) => oneLine(cell)));
  const widths = columns.map((column, i) =>
    Math.max(width(column.header), ...rows.map((row) => width(row[i] ?? "")))
  );
  const total = () => widths.reduce((sum, w) => sum + w, 0) + GAP.length * (widths.length - 1);
  const rank = (column: Column) => column.shrink === true ? 1 : Number(column.shrink ?? 0);
  while (total() > maxWidth) {
    let pick = -1;
    columns.forEach((column, i) => {
      const floor = Math.max(column.min ?? SHRINK_MIN, width(column.header));
      if (rank(column) <= 0 || widths[i] <= floor) return;
      const better = pick < 0 || rank(column) > rank(columns[pick]) ||
        (rank(column) === rank(columns[pick]) && widths[i] > widths[pick]);
      if (better) pick = i;
    });
    if (pick < 0) break;
    widths[pick] -= 1;
  }
  const line = (cells: string[]) =>
    columns.map((column, i) => {
      const text = cut(cells[i] ?? "", widths[i]);
      return i === columns.length - 1 && column.align !== "right"
        ? text
        : pad(text, widths[i], column.align ?? "left");
    }).join(GAP).trimEnd();
  return [columns.map((c) => c.header), ...rows].map(line).join("\n") + "\n";
}

/** A duration in seconds as `45s`, `4m 12s`, `3h 5m`, `2d 4h`. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

/** A moment relative to now: `in 4m 12s`, `3h 5m ago`, `now`. */
export function relative(at: number, now: number): string {
  if (at === now) return "now";
  return at > now ? `in ${duration(at - now)}` : `${duration(now - at)} ago`;
}

/** Unix seconds as local `YYYY-MM-DD HH:MM:SS` (honker's cron fires in local time). */
export function localTime(unixS: number): string {
  const d = new Date(unixS * 1000);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** Unix seconds as local `HH:MM:SS`, for lines of the follow commands. */
export function clock(unixS: number): string {
  return localTime(unixS).slice(11);
}

/** Text on one line: control characters and runs of white space become one space. */
export function oneLine(text: string | null): string {
  if (text === null) return "";
  // deno-lint-ignore no-control-regex
  return text.replace(/[\s\u0000-\u001f\u007f]+/g, " ").trim();
}

/** A decoded payload as compact JSON on one line. */
export function payloadText(payload: unknown): string {
  return oneLine(JSON.stringify(payload) ?? "null");
}
