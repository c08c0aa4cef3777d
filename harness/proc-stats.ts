// Per-process resource readings from /proc for the benchmarks: CPU time (all threads, and the main thread alone),
// resident set size (with its anonymous part and its peak), the host's total busy CPU time, and a sampler that records
// RSS over time so a window's mean and maximum can be read back.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

export interface CpuTimes {
  /** CPU seconds consumed so far by the process (all threads), in user space and in the kernel. */
  readonly user: number;
  readonly system: number;
  /** User + system seconds of the main thread alone (JavaScript); the rest is V8's GC/compiler and libuv threads. */
  readonly mainThread: number;
}

export interface RssReading {
  /** Resident set size now (VmRSS), in bytes. */
  readonly total: number;
  /** Its anonymous part (RssAnon: heap, not mapped files). */
  readonly anonymous: number;
  /** The largest RSS since the process started (VmHWM). */
  readonly peak: number;
}

export interface ProcReader {
  cpu(pid: number): CpuTimes;
  /** CPU seconds all CPUs of the host have spent busy (not idle or waiting for I/O) since boot. */
  hostBusySeconds(): number;
  rss(pid: number): RssReading;
  /**
   * Datagrams the kernel dropped at UDP sockets bound to this IPv4 address (the drops column of /proc/net/udp), only
   * those of process `pid` if given (by socket inode: another process may use the same address).
   */
  udpDrops(address: string, pid?: number): number;
  /** Open file descriptors of the process. */
  fdCount(pid: number): number;
}

export function createProcReader(): ProcReader {
  let ticksPerSecond = 100;
  try {
    ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    // Linux's USER_HZ is 100 everywhere that matters.
  }
  return {
    cpu(pid) {
      const [user, system] = times(`/proc/${pid}/stat`);
      const [mainUser, mainSystem] = times(`/proc/${pid}/task/${pid}/stat`);
      return { user: user / ticksPerSecond, system: system / ticksPerSecond, mainThread: (mainUser + mainSystem) / ticksPerSecond };
    },
    hostBusySeconds() {
      const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
      const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
      const total = ticks.reduce((a, b) => a + b, 0);
      return (total - (ticks[3] ?? 0) - (ticks[4] ?? 0)) / ticksPerSecond;
    },
    rss(pid) {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kib = (field: string) => {
        const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
        if (!match) throw new Error(`no ${field} for pid ${pid}`);
        return Number(match[1]) * 1024;
      };
      return { total: kib('VmRSS'), anonymous: kib('RssAnon'), peak: kib('VmHWM') };
    },
    udpDrops(address, pid) {
      // local_address is the IPv4 address as a little-endian hex word, then ":port"; field 9 is the socket's inode.
      const hex = address
        .split('.')
        .map((octet) => Number(octet).toString(16).padStart(2, '0').toUpperCase())
        .reverse()
        .join('');
      const inodes = pid === undefined ? undefined : socketInodes(pid);
      let drops = 0;
      for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
        const fields = line.trim().split(/\s+/);
        if (!fields[1]?.startsWith(`${hex}:`)) continue;
        if (inodes === undefined || inodes.has(fields[9] ?? '')) drops += Number(fields.at(-1));
      }
      return drops;
    },
    fdCount: (pid) => readdirSync(`/proc/${pid}/fd`).length,
  };
}

/** Inodes of the sockets a process has open (its /proc/<pid>/fd links read `socket:[inode]`). */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1] as string);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

/** utime and stime (clock ticks) from a stat file. */
function times(path: string): [number, number] {
  const stat = readFileSync(path, 'utf8');
  // Fields after the parenthesised command name (which may contain spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [Number(fields[11]), Number(fields[12])];
}

/** User + system CPU seconds. */
export function cpuSeconds(times: CpuTimes): number {
  return times.user + times.system;
}

/** CPU use over a phase, in millicores, from the CPU seconds at its start and end and its length. */
export function millicores(cpuBefore: number, cpuAfter: number, wallMs: number): number {
  return wallMs > 0 ? ((cpuAfter - cpuBefore) / (wallMs / 1000)) * 1000 : Number.NaN;
}

export interface RssSummary {
  readonly meanBytes: number;
  readonly maxBytes: number;
  readonly maxAnonymousBytes: number;
  readonly samples: number;
}

export interface RssSampler {
  /** The samples taken between two marks (ms, performance.now()). */
  between(from: number, to: number): RssSummary;
  /** Takes a last sample, stops, and summarises every sample. */
  stop(): RssSummary;
}

/** Samples a process's RSS every `periodMs` until stopped or the process is gone (bounded by the caller's window). */
export function sampleRss(reader: ProcReader, pid: number, periodMs = 1000): RssSampler {
  const samples: { at: number; total: number; anonymous: number }[] = [];
  const take = () => {
    try {
      const { total, anonymous } = reader.rss(pid);
      samples.push({ at: performance.now(), total, anonymous });
    } catch {
      clearInterval(timer); // the process is gone; the caller notices on its own
    }
  };
  const timer = setInterval(take, periodMs);
  timer.unref();
  take();
  const summarise = (chosen: typeof samples): RssSummary => ({
    meanBytes: chosen.length ? chosen.reduce((sum, sample) => sum + sample.total, 0) / chosen.length : Number.NaN,
    maxBytes: chosen.length ? Math.max(...chosen.map((sample) => sample.total)) : Number.NaN,
    maxAnonymousBytes: chosen.length ? Math.max(...chosen.map((sample) => sample.anonymous)) : Number.NaN,
    samples: chosen.length,
  });
  return {
    between: (from, to) => summarise(samples.filter((sample) => sample.at >= from && sample.at <= to)),
    stop() {
      clearInterval(timer);
      take();
      return summarise(samples);
    },
  };
}
