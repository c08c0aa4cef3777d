// One naive-prober configuration: the same N synthetic peers as the agent's run, the naive prober (bench/agent/
// naive-prober.ts, same Node binary and flags as the agent) doing the agent's outbound work, a warm-up, then one
// measured window; returns its CPU, RSS and probe counts, for the agent/naive ratio.
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { addressPlan } from './addresses.ts';
import type { ChildGroup } from '../../harness/child-group.ts';
import { controlChannel } from './ipc.ts';
import { cpuSeconds, type ProcReader } from '../../harness/proc-stats.ts';
import { summarise, type Summary } from '../common/quantiles.ts';
import { openWindow } from './measurement-window.ts';
import { agentDefaultSchedule, startSyntheticPeers } from './synthetic-peers-process.ts';
const NAIVE_PROBER = fileURLToPath(new URL('./naive-prober.mjs', import.meta.url));
const MiB = 1024 * 1024;

/** naive-prober.mjs's argv[2]. */
export interface NaiveProberConfig {
  readonly bind: string;
  readonly port: number;
  readonly targets: readonly string[];
  readonly intervalMs: number;
  readonly jitter: { readonly min: number; readonly max: number };
  readonly udp: { readonly packets: number; readonly packetSize: number; readonly spacingMs: number; readonly timeoutMs: number };
  readonly tcpTimeoutMs: number;
  readonly deadlineMs: number;
}

interface NaiveCounters {
  readonly udpRounds: number;
  readonly udpSent: number;
  readonly udpReceived: number;
  readonly udpLost: number;
  readonly tcpTests: number;
  readonly tcpPassed: number;
  readonly tcpFailed: number;
  /** Lost packets / failed TCP tests since the prober started (start-up included: on loopback every one is false). */
  readonly lostSinceStart: number;
  readonly tcpFailedSinceStart: number;
}

/** What naive-prober.mjs reports: counters of the window, and (sampled) RTTs and connect times, µs. */
type NaiveProberReport = NaiveCounters & { readonly rttMicros: number[]; readonly connectMicros: number[] };

export type NaiveProberStats = NaiveCounters & { readonly rttMicros: Summary; readonly connectMicros: Summary };

export interface NaiveScenarioOptions {
  readonly peers: number;
  readonly windowSeconds: number;
  readonly warmupSeconds: number;
  readonly port: number;
  readonly group: ChildGroup;
  readonly proc: ProcReader;
  /** The Node flags the agent runs with: the naive prober gets the same. */
  readonly nodeFlags: readonly string[];
  readonly log: (line: string) => void;
}

export interface NaiveResult {
  readonly peers: number;
  readonly cpuMillicores: number;
  readonly rssMeanMiB: number;
  readonly rssMaxMiB: number;
  /** UDP rounds and TCP tests started in the window, and how many the schedule implies (per test). */
  readonly expectedPerTest: number;
  readonly stats: NaiveProberStats;
}

export async function runNaiveScenario(options: NaiveScenarioOptions): Promise<NaiveResult> {
  const { group, proc, log } = options;
  const schedule = agentDefaultSchedule();
  const { defaults } = schedule;
  const plan = addressPlan(options.peers);
  const deadlineMs = (options.warmupSeconds + options.windowSeconds + 120) * 1000;
  const stops: Array<() => Promise<void>> = [];
  try {
    const peers = await startSyntheticPeers({ group, plan, port: options.port, bidirectional: false, schedule, deadlineMs });
    stops.push(peers.stop);

    const naiveConfig: NaiveProberConfig = {
      bind: plan.agent,
      port: options.port,
      targets: plan.peers,
      intervalMs: defaults.udp.interval,
      jitter: defaults.jitter,
      udp: peers.config.udp,
      tcpTimeoutMs: defaults.tcp.timeout,
      deadlineMs,
    };
    const child = group.spawn(process.execPath, [...options.nodeFlags, NAIVE_PROBER, JSON.stringify(naiveConfig)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    stops.push(() => group.stop(child));
    const naive = controlChannel(child, 'naive prober');
    await naive.ready(30_000);
    const pid = child.pid as number;

    log(`  naive prober: warm-up ${options.warmupSeconds} s (pid ${pid})`);
    await sleep(options.warmupSeconds * 1000);
    naive.send({ type: 'reset' });
    const window = openWindow(proc, pid);
    stops.push(async () => window.abandon());
    await sleep(options.windowSeconds * 1000);
    const { seconds: windowSeconds, cpu, memory, millicores } = window.close();
    const report = await naive.stats<NaiveProberReport>(10_000);
    const stats: NaiveProberStats = { ...report, rttMicros: summarise(report.rttMicros), connectMicros: summarise(report.connectMicros) };
    return {
      peers: options.peers,
      cpuMillicores: millicores(cpuSeconds(cpu)),
      rssMeanMiB: memory.meanBytes / MiB,
      rssMaxMiB: memory.maxBytes / MiB,
      expectedPerTest: (options.peers * windowSeconds * 1000) / schedule.meanPeriodMs,
      stats,
    };
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}
