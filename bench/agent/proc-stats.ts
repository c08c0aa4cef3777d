// Per-process resource readings from /proc: CPU time (all threads, and the main thread alone), resident set size (with
// its anonymous part) sampled over a window, and the host's total busy CPU time.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

export interface CpuTimes {
  /** CPU seconds consumed so far by the process (all threads), in user space and in the kernel. */
  readonly user: number;
  readonly system: number;
  /** User + system seconds of the main thread alone (JavaScript); the rest is V8's GC/compiler and libuv threads. */
  readonly mainThread: number;
}

export interface ProcReader {
  cpu(pid: number): CpuTimes;
  /** CPU seconds all CPUs of the host have spent busy (not idle or waiting for I/O) since boot. */
  hostBusySeconds(): number;
  /** Current resident set size in bytes (VmRSS) and its anonymous part (RssAnon: heap, not mapped files). */
  rss(pid: number): { total: number; anonymous: number };
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
      const total = /^VmRSS:\s+(\d+) kB/m.exec(status);
      const anonymous = /^RssAnon:\s+(\d+) kB/m.exec(status);
      if (!total || !anonymous) throw new Error(`no VmRSS for pid ${pid}`);
      return { total: Number(total[1]) * 1024, anonymous: Number(anonymous[1]) * 1024 };
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

export interface RssSampler {
  stop(): { meanBytes: number; maxBytes: number; maxAnonymousBytes: number; samples: number };
}

/** Samples a process's RSS every `periodMs` until stopped (bounded by the caller's window). */
export function sampleRss(reader: ProcReader, pid: number, periodMs = 1000): RssSampler {
  const samples: number[] = [];
  let maxAnonymous = Number.NaN;
  const take = () => {
    try {
      const { total, anonymous } = reader.rss(pid);
      samples.push(total);
      maxAnonymous = Number.isNaN(maxAnonymous) ? anonymous : Math.max(maxAnonymous, anonymous);
    } catch {
      // the process is gone; the scenario notices on its own
    }
  };
  take();
  const timer = setInterval(take, periodMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      const total = samples.reduce((a, b) => a + b, 0);
      return {
        meanBytes: samples.length ? total / samples.length : Number.NaN,
        maxBytes: samples.length ? Math.max(...samples) : Number.NaN,
        maxAnonymousBytes: maxAnonymous,
        samples: samples.length,
      };
    },
  };
}
