// Per-process readings from /proc: CPU seconds (utime + stime, all threads), VmRSS and VmHWM (peak RSS), and a
// sampler that records RSS over time so a phase's mean and maximum can be read back.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let ticksPerSecond = 0;

function clockTicks(): number {
  if (ticksPerSecond === 0) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** CPU seconds the process has used so far (user + system). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicks();
}

export interface MemoryReading {
  readonly rssBytes: number;
  /** Peak RSS since the process started. */
  readonly hwmBytes: number;
}

export function memory(pid: number): MemoryReading {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
  return { rssBytes: kb('VmRSS'), hwmBytes: kb('VmHWM') };
}

export interface RssSampler {
  /** Max and mean RSS between two marks (ms, performance.now()). */
  between(from: number, to: number): { maxBytes: number; meanBytes: number; samples: number };
  stop(): void;
}

export function sampleRss(pid: number, intervalMs = 200): RssSampler {
  const samples: { at: number; bytes: number }[] = [];
  const timer = setInterval(() => {
    try {
      samples.push({ at: performance.now(), bytes: memory(pid).rssBytes });
    } catch {
      clearInterval(timer); // the process is gone
    }
  }, intervalMs);
  timer.unref();
  return {
    between(from, to) {
      const inside = samples.filter((sample) => sample.at >= from && sample.at <= to).map((sample) => sample.bytes);
      if (inside.length === 0) return { maxBytes: Number.NaN, meanBytes: Number.NaN, samples: 0 };
      return { maxBytes: Math.max(...inside), meanBytes: inside.reduce((a, b) => a + b, 0) / inside.length, samples: inside.length };
    },
    stop: () => clearInterval(timer),
  };
}

/** CPU use of a process over a phase, in millicores. */
export function millicores(cpuBefore: number, cpuAfter: number, wallMs: number): number {
  return wallMs > 0 ? ((cpuAfter - cpuBefore) / (wallMs / 1000)) * 1000 : Number.NaN;
}
