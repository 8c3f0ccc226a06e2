/**
 * Resource curves of the torture processes: RSS and thread count from `/proc/<pid>/status`,
 * open descriptors from `/proc/<pid>/fd`, sampled every few seconds, and each process's growth
 * after its own warm-up.
 *
 * @module
 */

import { readdirSync, readFileSync } from "node:fs";
import type { Member } from "./_fleet.ts";

/** One sample of one process. */
export interface Sample {
  atS: number;
  rssKb: number;
  threads: number;
  fds: number;
}

/** The samples of one process incarnation. */
export interface Series {
  label: string;
  pid: number;
  samples: Sample[];
}

/** How one process grew after warm-up. */
export interface Growth {
  label: string;
  rssPct: number;
  fds: number;
  threads: number;
  /** RSS in MB at up to twelve evenly spaced samples. */
  curveMb: number[];
}

/** Reads one process's resources; undefined once it is gone. */
export function sampleProcess(pid: number, atS: number): Sample | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const field = (name: string) =>
      Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)?.[1]);
    return {
      atS,
      rssKb: field("VmRSS"),
      threads: field("Threads"),
      fds: readdirSync(`/proc/${pid}/fd`).length,
    };
  } catch {
    return undefined;
  }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

/** Samples every process it is shown, one series per incarnation. */
export class Sampler {
  readonly series = new Map<number, Series>();

  /** Takes one sample of each member. */
  sample(members: Member[], atS: number): void {
    for (const member of members) {
      const sample = sampleProcess(member.pid, atS);
      if (!sample) continue;
      let series = this.series.get(member.pid);
      if (!series) {
        series = { label: `${member.name}[${member.pid}]`, pid: member.pid, samples: [] };
        this.series.set(member.pid, series);
      }
      series.samples.push(sample);
    }
  }

  /** Every sample as CSV: `process,pid,at_s,rss_kb,threads,fds`. */
  csv(): string {
    const lines = ["process,pid,at_s,rss_kb,threads,fds"];
    for (const { label, pid, samples } of this.series.values()) {
      for (const s of samples) {
        lines.push(
          [label.split("[")[0], pid, s.atS.toFixed(1), s.rssKb, s.threads, s.fds].join(","),
        );
      }
    }
    return `${lines.join("\n")}\n`;
  }

  /**
   * Every series with its RSS curve. Growth (NaN when unknown) compares the median of the first
   * third of a process's samples taken `warmUpS` after its own start with the median of the last
   * third (thirds, not single samples, because a garbage-collected heap saw-tooths), and needs
   * six such samples.
   */
  growth(warmUpS: number): Growth[] {
    return [...this.series.values()].map((series) => {
      const startS = series.samples[0].atS;
      const after = series.samples.filter((s) => s.atS >= startS + warmUpS);
      const third = Math.floor(after.length / 3);
      const head = after.slice(0, third);
      const tail = after.slice(-third);
      const known = after.length >= 6;
      const delta = (pick: (s: Sample) => number) =>
        known ? median(tail.map(pick)) - median(head.map(pick)) : NaN;
      const step = Math.max(1, Math.ceil(series.samples.length / 12));
      return {
        label: series.label,
        rssPct: known ? (delta((s) => s.rssKb) / median(head.map((s) => s.rssKb))) * 100 : NaN,
        fds: delta((s) => s.fds),
        threads: delta((s) => s.threads),
        curveMb: series.samples.filter((_, i) => i % step === 0).map((s) =>
          Math.round(s.rssKb / 1024)
        ),
      };
    });
  }
}
