// Renders benchmark results as markdown: the load, RTT and load-generator tables, and the targets at
// N = 1000 outbound-only with PASS/FAIL.
import type { ScenarioResult } from './scenario.ts';
import type { MachineInfo } from './machine.ts';
import type { NaiveResult } from './naive-scenario.ts';

export interface Target {
  readonly name: string;
  readonly measured: string;
  readonly pass: boolean | undefined;
}

const TARGET_PEERS = 1000;

function num(value: number, digits = 0): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

function signed(value: number): string {
  return Number.isFinite(value) ? `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(0)}` : 'n/a';
}

function pct(part: number, whole: number, digits = 1): string {
  return whole > 0 ? `${((part / whole) * 100).toFixed(digits)} %` : 'n/a';
}

function row(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  return [row(header), row(header.map(() => '---')), ...rows.map(row)].join('\n');
}

export function loadTable(results: readonly ScenarioResult[]): string {
  return table(
    [
      'N',
      'mode',
      'agent CPU, millicores (user + sys; main thread)',
      'agent RSS mean / max (max anonymous), MiB',
      'V8 heap used / young gen (MiB)',
      'UDP probes done / expected',
      'TCP tests done / expected',
      'UDP pass',
      'TCP pass',
      'event-loop lag p99 (ms, agent metric)',
      'one /metrics scrape (KiB, CPU ms)',
      'other load on host (millicores)',
    ],
    results.map((r) => {
      const udp = r.udp.passed + r.udp.failed;
      const tcp = r.tcp.passed + r.tcp.failed;
      return [
        String(r.peers),
        r.mode,
        `${num(r.agent.cpuMillicores, 1)} (${num(r.agent.userMillicores)} + ${num(r.agent.systemMillicores)}; ${num(r.agent.mainThreadMillicores)})`,
        `${num(r.agent.rssMeanMiB, 1)} / ${num(r.agent.rssMaxMiB, 1)} (${num(r.agent.rssAnonMaxMiB, 1)})`,
        `${num(r.agent.heapUsedMiB, 1)} / ${num(r.agent.newSpaceMiB)}`,
        `${udp} / ${num(r.expectedPerTest)} (${pct(udp, r.expectedPerTest)})`,
        `${tcp} / ${num(r.expectedPerTest)} (${pct(tcp, r.expectedPerTest)})`,
        pct(r.udp.passed, udp, 2),
        pct(r.tcp.passed, tcp, 2),
        num(r.agent.eventLoopLagP99Ms, 1),
        `${num(r.agent.metricsBytes / 1024)}, ${num(r.agent.scrapeCpuMs)}`,
        r.hostOtherMillicores < 20 ? '< 20' : num(r.hostOtherMillicores),
      ];
    }),
  );
}

export function rttTable(results: readonly ScenarioResult[]): string {
  return table(
    [
      'N',
      'mode',
      'agent median / p99, per packet (histogram)',
      'agent median / p99, per probe (/results)',
      'minimal client median / p99, per packet',
      'agent − client median',
      'ping avg / mdev (min)',
    ],
    results.map((r) => {
      const { agentHistogram: h, agentResults: a, client: c, ping: p } = r.rtt;
      return [
        String(r.peers),
        r.mode,
        `${num(h.p50)} / ${num(h.p99)} (n=${h.count})`,
        `${num(a.p50)} / ${num(a.p99)} (n=${a.count})`,
        `${num(c.p50)} / ${num(c.p99)} (n=${c.count}, lost ${c.lost})`,
        `${num(h.p50 - c.p50)} (histogram), ${num(a.p50 - c.p50)} (/results)`,
        p ? `${num(p.avgMicros)} / ${num(p.mdevMicros)} (${num(p.minMicros)})` : 'n/a',
      ];
    }),
  );
}

export function peersTable(results: readonly ScenarioResult[]): string {
  return table(
    [
      'N',
      'mode',
      'synthetic peers CPU (millicores)',
      'echoes / TCP answered',
      'peers→agent UDP probes done / expected',
      'peers→agent packets answered',
      'peers→agent TCP passed / completed',
      'agent echo RTT median / p99 (µs)',
      'peers event-loop delay p99 / max (ms)',
    ],
    results.map((r) => {
      const s = r.syntheticPeers.stats;
      const bidirectional = r.mode === 'bidirectional';
      const expected = (r.peers * s.elapsedMs) / 1000 / r.meanPeriodSeconds;
      return [
        String(r.peers),
        r.mode,
        num(r.syntheticPeers.cpuMillicores, 1),
        `${s.udpEchoed} / ${s.tcpServed}`,
        bidirectional ? `${s.udpRounds} / ${num(expected)} (${pct(s.udpRounds, expected)})` : '—',
        bidirectional ? `${s.udpReceived} / ${s.udpSent} (${pct(s.udpReceived, s.udpSent, 2)}; agent echoed ${r.agentEchoed})` : '—',
        bidirectional ? `${s.tcpPassed} / ${s.tcpPassed + s.tcpFailed}` : '—',
        bidirectional ? `${num(s.rttMicros.p50)} / ${num(s.rttMicros.p99)}` : '—',
        `${num(s.loopDelayP99Ms, 1)} / ${num(s.loopDelayMaxMs, 1)}`,
      ];
    }),
  );
}

/** The agent next to the naive prober at each N (outbound): CPU, memory, the ratio, and what each got done. */
export function comparisonTable(results: readonly ScenarioResult[], naive: readonly NaiveResult[]): string {
  return table(
    [
      'N',
      'agent CPU (m)',
      'naive CPU (m)',
      'agent / naive CPU',
      'agent RSS mean / peak (MiB)',
      'naive RSS mean / peak (MiB)',
      'agent / naive peak RSS',
      'agent UDP / TCP done',
      'naive UDP / TCP done',
    ],
    results
      .filter((r) => r.mode === 'outbound')
      .map((r) => {
        const n = naive.find((entry) => entry.peers === r.peers);
        const done = (count: number, expected: number) => (expected > 0 ? pct(count, expected) : 'n/a');
        return [
          String(r.peers),
          num(r.agent.cpuMillicores, 1),
          n ? num(n.cpuMillicores, 1) : '—',
          n ? ratio(r.agent.cpuMillicores, n.cpuMillicores) : '—',
          `${num(r.agent.rssMeanMiB, 1)} / ${num(r.agent.rssMaxMiB, 1)}`,
          n ? `${num(n.rssMeanMiB, 1)} / ${num(n.rssMaxMiB, 1)}` : '—',
          n ? ratio(r.agent.rssMaxMiB, n.rssMaxMiB) : '—',
          `${done(r.udp.passed + r.udp.failed, r.expectedPerTest)} / ${done(r.tcp.passed + r.tcp.failed, r.expectedPerTest)}`,
          n ? `${done(n.stats.udpRounds, n.expectedPerTest)} / ${done(n.stats.tcpTests, n.expectedPerTest)}` : '—',
        ];
      }),
  );
}

/** Accuracy next to the naive prober and the minimal client: RTT, TCP connect, false losses, kernel drops. */
export function accuracyTable(results: readonly ScenarioResult[], naive: readonly NaiveResult[]): string {
  return table(
    [
      'N',
      'UDP RTT median: agent / naive / minimal client (µs)',
      'TCP connect median: agent / naive (µs)',
      'agent failed UDP / TCP tests since start (unmeasured packets)',
      'naive lost packets / failed TCP since start',
      'kernel drops at the agent (window / since start)',
      'scrapes in window (slowest, ms)',
      'agent fds',
    ],
    results
      .filter((r) => r.mode === 'outbound' && r.peers > 0)
      .map((r) => {
        const n = naive.find((entry) => entry.peers === r.peers);
        return [
          String(r.peers),
          `${num(r.rtt.agentHistogram.p50)} / ${n ? num(n.stats.rttMicros.p50) : '—'} / ${num(r.rtt.client.p50)}`,
          `${num(r.tcpConnectMicros.p50)} / ${n ? num(n.stats.connectMicros.p50) : '—'}`,
          `${r.failedSinceStart.udp} / ${r.failedSinceStart.tcp} (${r.failedSinceStart.udpUnmeasured})`,
          n ? `${n.stats.lostSinceStart} / ${n.stats.tcpFailedSinceStart}` : '—',
          `${r.kernelDrops.window} / ${r.kernelDrops.total}`,
          r.windowScrapes.count > 0 ? `${r.windowScrapes.count} (${num(r.windowScrapes.slowestMs, 1)})` : '—',
          String(r.fds),
        ];
      }),
  );
}

function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a';
}

/** The targets, judged on the outbound runs (undefined when a needed run is not in the set). */
export function targets(results: readonly ScenarioResult[], naive: readonly NaiveResult[] = []): Target[] {
  const at = (peers: number) => results.find((result) => result.peers === peers && result.mode === 'outbound');
  const naiveAt = (peers: number) => naive.find((result) => result.peers === peers);
  const list: Target[] = [];
  const missing = (name: string, peers: number) => list.push({ name, measured: `not measured (no N = ${peers} outbound run)`, pass: undefined });
  const r = at(TARGET_PEERS);
  const n = naiveAt(TARGET_PEERS);
  if (r) {
    list.push({ name: 'N = 1000: CPU ≤ 50 millicores', measured: `${num(r.agent.cpuMillicores, 1)} millicores`, pass: r.agent.cpuMillicores <= 50 });
    if (n)
      list.push({
        name: 'N = 1000: CPU ≤ 0.8 × the naive prober',
        measured: `${ratio(r.agent.cpuMillicores, n.cpuMillicores)} (naive ${num(n.cpuMillicores, 1)} m)`,
        pass: r.agent.cpuMillicores <= 0.8 * n.cpuMillicores,
      });
    list.push({
      name: 'N = 1000: peak RSS ≤ 72 MiB (stretch 64)',
      measured: `max ${num(r.agent.rssMaxMiB, 1)} MiB (mean ${num(r.agent.rssMeanMiB, 1)})`,
      pass: r.agent.rssMaxMiB <= 72,
    });
  } else missing('N = 1000: CPU, RSS', TARGET_PEERS);
  for (const [peers, limit] of [
    [100, 12],
    [10, 4],
    [0, 1],
  ] as const) {
    const entry = at(peers);
    if (entry)
      list.push({
        name: `N = ${peers}: CPU ≤ ${limit} millicores`,
        measured: `${num(entry.agent.cpuMillicores, 1)} millicores`,
        pass: entry.agent.cpuMillicores <= limit,
      });
    else missing(`N = ${peers}: CPU ≤ ${limit} millicores`, peers);
  }
  const r100 = at(100);
  if (r100 && r) {
    const perPeerKiB = ((r.agent.rssMeanMiB - r100.agent.rssMeanMiB) * 1024) / (r.peers - r100.peers);
    list.push({ name: 'per-peer memory ≤ 16 KiB (mean RSS slope, N = 100 → 1000)', measured: `${num(perPeerKiB, 1)} KiB per peer`, pass: perPeerKiB <= 16 });
  }
  for (const entry of results.filter((x) => x.mode === 'outbound' && x.peers > 0)) {
    const udp = (entry.udp.passed + entry.udp.failed) / entry.expectedPerTest;
    const tcp = (entry.tcp.passed + entry.tcp.failed) / entry.expectedPerTest;
    const naiveEntry = naiveAt(entry.peers);
    const gap = entry.rtt.agentHistogram.p50 - entry.rtt.client.p50;
    list.push({
      name: `N = ${entry.peers}: probes ≥ 99 % of expected`,
      measured: `UDP ${num(udp * 100, 1)} %, TCP ${num(tcp * 100, 1)} %`,
      pass: udp >= 0.99 && tcp >= 0.99,
    });
    list.push({
      name: `N = ${entry.peers}: median UDP RTT ≤ minimal client + 50 µs`,
      measured: `agent ${num(entry.rtt.agentHistogram.p50)} µs (histogram; ${num(entry.rtt.agentResults.p50)} µs from /results) vs client ${num(entry.rtt.client.p50)} µs: ${signed(gap)} µs`,
      pass: gap <= 50,
    });
    if (naiveEntry) {
      const tcpGap = entry.tcpConnectMicros.p50 - naiveEntry.stats.connectMicros.p50;
      list.push({
        name: `N = ${entry.peers}: median TCP connect ≤ naive + 100 µs`,
        measured: `agent ${num(entry.tcpConnectMicros.p50)} µs vs naive ${num(naiveEntry.stats.connectMicros.p50)} µs: ${signed(tcpGap)} µs`,
        pass: tcpGap <= 100,
      });
    }
    list.push({
      name: `N = ${entry.peers}: 0 false losses since start`,
      measured: `${entry.failedSinceStart.udp} UDP, ${entry.failedSinceStart.tcp} TCP failed tests`,
      pass: entry.failedSinceStart.udp === 0 && entry.failedSinceStart.tcp === 0,
    });
  }
  return list;
}

/**
 * What a minimal Node prober pays for the agent's probe load: the synthetic peers' extra CPU when they also probe (one
 * process sending the same UDP packets and opening the same TCP connections, without metrics or bookkeeping).
 */
export function proberFloor(results: readonly ScenarioResult[]): string[] {
  const lines: string[] = [];
  for (const peers of [...new Set(results.map((r) => r.peers))]) {
    const outbound = results.find((r) => r.peers === peers && r.mode === 'outbound');
    const both = results.find((r) => r.peers === peers && r.mode === 'bidirectional');
    if (!outbound || !both) continue;
    const floor = both.syntheticPeers.cpuMillicores - outbound.syntheticPeers.cpuMillicores;
    lines.push(
      `- N = ${peers}: probing the agent at the agent's own rate added ${signed(floor)} millicores to the synthetic peers process (what a minimal Node prober pays for this probe load), against the agent's ${num(outbound.agent.cpuMillicores)} millicores outbound-only. Being probed by its peers (bidirectional − outbound) changed the agent's CPU by ${signed(both.agent.cpuMillicores - outbound.agent.cpuMillicores)} millicores.`,
    );
  }
  return lines;
}

export function targetList(list: readonly Target[]): string {
  return list.map((target) => `- ${target.pass === undefined ? 'N/A' : target.pass ? 'PASS' : 'FAIL'} — ${target.name}: ${target.measured}`).join('\n');
}

const METHOD = `How it is measured:

- One agent (default settings, DNS off) probes N synthetic peers, all served by one separate Node process on N loopback
  addresses (127.1.x.y: UDP echo + \`GET /readiness\`). In *bidirectional* mode every synthetic peer also probes the agent
  from its own address at the agent's default rate (5 × 4-byte UDP packets 50 ms apart and one fresh TCP
  \`GET /readiness\`, each every 5 s + 50–500 ms jitter).
- After the warm-up, one window is measured. CPU: utime + stime from /proc/<pid>/stat (in brackets: user + sys, and the
  main thread alone; the rest is V8's GC and compiler threads). RSS: /proc/<pid>/status every second (in brackets: the
  largest anonymous part, i.e. without the pages of the mapped Node binary).
- Probes: deltas of \`kconmon_udp_results_total\` and \`kconmon_tcp_results_total\` between a scrape just before and one
  just after the CPU window (scrapes stay outside it; one scrape's cost is measured separately afterwards); expected =
  N × window / (5 s + 275 ms mean jitter) per test.
- RTT: the agent's per-packet RTT is interpolated inside the \`kconmon_udp_rtt_seconds\` buckets (±½ bucket: ±50 µs
  below 100 µs, ±75 µs up to 250 µs); the /results column is the mean of the 5 packets of each peer's last probe at the end of the window (one
  value per peer). The minimal client is a separate Node process with one dgram socket sending one 4-byte datagram every
  50 ms to 5 of the synthetic peers (the same echo process, at the same time). \`ping -c 20 -i 0.2\` (ICMP answered by
  the kernel) is the floor.
- The naive prober (\`bench/agent/naive-prober.mjs\`, ~130 lines of Node, same binary and Node flags as the agent) runs
  after the agent at each N, against the same synthetic peers on the same addresses, with its own warm-up and window: it
  sends the same datagrams (5 × 4 bytes, 50 ms apart) and the same fresh-connection \`GET /readiness\` per peer every
  5 s + 50–500 ms jitter, targets evenly spread over the interval, with no metrics, no stall detection, no history.
- False losses: failed tests counted by the agent since it started (start-up included); on loopback every one is false.
  Kernel drops: the drops column of /proc/net/udp for the agent's own sockets (probe socket and echo, by inode).
- "Other load on host" is the CPU the rest of the machine used during the window: other work sharing the 2 cores
  inflates latency tails and, less, CPU time. MiB = 2^20 bytes.`;

export function renderSection(options: {
  command: string;
  machine: MachineInfo;
  agent: string;
  windowSeconds: number;
  warmupSeconds: number;
  results: readonly ScenarioResult[];
  naive: readonly NaiveResult[];
}): string {
  const { machine, results, naive } = options;
  return [
    '## Agent',
    '',
    `Command: \`${options.command}\` (window ${options.windowSeconds} s after ${options.warmupSeconds} s warm-up per configuration)`,
    '',
    `Machine: ${machine.cpus} CPUs (${machine.model}), Node ${machine.node}, Linux ${machine.kernel}; run ${machine.date}`,
    '',
    `Agent: ${options.agent}`,
    '',
    METHOD,
    '',
    ...(naive.length > 0 ? ['### Agent next to the naive prober (outbound)', '', comparisonTable(results, naive), ''] : []),
    '### Accuracy',
    '',
    accuracyTable(results, naive),
    '',
    '### Agent load',
    '',
    loadTable(results),
    '',
    '### UDP round-trip time (µs)',
    '',
    rttTable(results),
    '',
    '### Load generator (synthetic peers process)',
    '',
    peersTable(results),
    '',
    '### Targets (outbound)',
    '',
    targetList(targets(results, naive)),
    '',
    ...(proberFloor(results).length > 0 ? ['### Reference: a minimal prober on the same machine', '', ...proberFloor(results), ''] : []),
  ].join('\n');
}
