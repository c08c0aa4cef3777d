// Soak mode: one agent probing N synthetic peers (outbound) for many minutes, its /metrics scraped at a fixed period as
// Prometheus would; per minute: RSS mean / max, V8 heap used, open fds; at the end the RSS and heap slopes over the
// last 10 minutes (least squares over the per-minute means), to show whether memory keeps growing.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { addressPlan } from './addresses.ts';
import type { ChildGroup } from '../../harness/child-group.ts';
import { startAgentProcess } from './agent-process.ts';
import type { ProcReader } from '../../harness/proc-stats.ts';
import { sampleSum as sum, sampleValue as value } from '../../harness/exposition.ts';
import { agentDefaultSchedule, startSyntheticPeers } from './synthetic-peers-process.ts';
const MiB = 1024 * 1024;

export interface SoakOptions {
  readonly peers: number;
  readonly minutes: number;
  readonly scrapeSeconds: number;
  readonly port: number;
  readonly group: ChildGroup;
  readonly proc: ProcReader;
  readonly agentEntry?: string | undefined;
  readonly agentNodeFlags: readonly string[];
  readonly log: (line: string) => void;
  readonly tempDirs: Set<string>;
}

export interface SoakMinute {
  readonly minute: number;
  readonly rssMeanMiB: number;
  readonly rssMaxMiB: number;
  readonly heapUsedMiB: number;
  readonly fds: number;
}

export interface SoakResult {
  readonly peers: number;
  readonly minutes: readonly SoakMinute[];
  readonly scrapes: number;
  /** Slopes over the last min(10, all) minutes, MiB per minute, and how many minutes they span. */
  readonly rssSlopeMiBPerMinute: number;
  readonly heapSlopeMiBPerMinute: number;
  readonly slopeMinutes: number;
  readonly udpFailed: number;
  readonly kernelDrops: number;
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const { group, proc, log } = options;
  const plan = addressPlan(options.peers);
  const dir = await mkdtemp(join(tmpdir(), 'kconmon-bench-soak-'));
  options.tempDirs.add(dir);
  const deadlineMs = (options.minutes * 60 + 180) * 1000;
  const stops: Array<() => Promise<void>> = [];
  try {
    const peers = await startSyntheticPeers({ group, plan, port: options.port, bidirectional: false, schedule: agentDefaultSchedule(), deadlineMs });
    stops.push(peers.stop);
    const agent = await startAgentProcess({ group, dir, plan, port: options.port, deadlineMs, entry: options.agentEntry, nodeFlags: options.agentNodeFlags });
    stops.push(agent.stop);
    log(`  soak: ${options.minutes} min, N = ${options.peers}, scrape every ${options.scrapeSeconds} s (agent pid ${agent.pid})`);

    const minutes: SoakMinute[] = [];
    let rssSamples: number[] = [];
    let heapUsed = Number.NaN;
    let scrapes = 0;
    let lastScrape = { udpFailed: 0 };
    const rssTimer = setInterval(() => {
      try {
        rssSamples.push(proc.rss(agent.pid).total);
      } catch {
        // gone: noticed below
      }
    }, 1000);
    const scrapeTimer = setInterval(() => {
      void agent.metrics().then(
        (m) => {
          scrapes++;
          heapUsed = value(m.scrape, 'nodejs_heap_size_used_bytes');
          lastScrape = { udpFailed: sum(m.scrape, 'kconmon_udp_results_total', { result: 'fail' }) };
        },
        () => {},
      );
    }, options.scrapeSeconds * 1000);
    stops.push(async () => {
      clearInterval(rssTimer);
      clearInterval(scrapeTimer);
    });
    for (let minute = 1; minute <= options.minutes; minute++) {
      await sleep(60_000);
      if (!agent.alive()) throw new Error(`agent died during the soak (${agent.exit()}):\n${agent.logTail()}`);
      const samples = rssSamples;
      rssSamples = [];
      const entry: SoakMinute = {
        minute,
        rssMeanMiB: samples.reduce((a, b) => a + b, 0) / samples.length / MiB,
        rssMaxMiB: Math.max(...samples) / MiB,
        heapUsedMiB: heapUsed / MiB,
        fds: proc.fdCount(agent.pid),
      };
      minutes.push(entry);
      log(
        `  minute ${minute}: RSS mean ${entry.rssMeanMiB.toFixed(1)} / max ${entry.rssMaxMiB.toFixed(1)} MiB, heap used ${entry.heapUsedMiB.toFixed(1)} MiB, ${entry.fds} fds`,
      );
    }
    const tail = minutes.slice(-10);
    return {
      peers: options.peers,
      minutes,
      scrapes,
      rssSlopeMiBPerMinute: slope(tail.map((m) => [m.minute, m.rssMeanMiB])),
      heapSlopeMiBPerMinute: slope(tail.map((m) => [m.minute, m.heapUsedMiB])),
      slopeMinutes: tail.length,
      udpFailed: lastScrape.udpFailed,
      kernelDrops: proc.udpDrops(plan.agent, agent.pid),
    };
  } finally {
    for (const stop of stops.reverse()) await stop();
    options.tempDirs.delete(dir);
    await rm(dir, { recursive: true, force: true });
  }
}

/** Least-squares slope of y over x. */
function slope(points: ReadonlyArray<readonly [number, number]>): number {
  if (points.length < 2) return Number.NaN;
  const n = points.length;
  const meanX = points.reduce((a, [x]) => a + x, 0) / n;
  const meanY = points.reduce((a, [, y]) => a + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - meanX) * (y - meanY);
    den += (x - meanX) ** 2;
  }
  return num / den;
}

export function soakTable(result: SoakResult): string {
  const rows = result.minutes.map((m) => `| ${m.minute} | ${m.rssMeanMiB.toFixed(1)} | ${m.rssMaxMiB.toFixed(1)} | ${m.heapUsedMiB.toFixed(1)} | ${m.fds} |`);
  return [
    '| minute | RSS mean (MiB) | RSS max (MiB) | V8 heap used (MiB) | open fds |',
    '| ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    `Slope over the last ${result.slopeMinutes} minutes: RSS ${result.rssSlopeMiBPerMinute.toFixed(2)} MiB/min, heap ${result.heapSlopeMiBPerMinute.toFixed(2)} MiB/min; ` +
      `fds ${result.minutes[0]?.fds ?? 'n/a'} → ${result.minutes.at(-1)?.fds ?? 'n/a'}; ${result.scrapes} scrapes; ` +
      `UDP tests failed since start ${result.udpFailed}; kernel drops at the agent's sockets ${result.kernelDrops}.`,
  ].join('\n');
}
