// Renders benchmark results as markdown: the load, RTT and load-generator tables, and the targets at
// N = 1000 outbound-only with PASS/FAIL.
import type { ScenarioResult } from './scenario.ts';
import type { MachineInfo } from './machine.ts';

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
    ['N', 'mode', 'agent CPU, millicores (user + sys; main thread)', 'agent RSS mean / max (max anonymous), MiB', 'V8 heap used / young gen (MiB)', 'UDP probes done / expected', 'TCP tests done / expected', 'UDP pass', 'TCP pass', 'event-loop delay p99 (ms)', 'one /metrics scrape (KiB, CPU ms)', 'other load on host (millicores)'],
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
    ['N', 'mode', 'agent median / p99, per packet (histogram)', 'agent median / p99, per probe (/results)', 'minimal client median / p99, per packet', 'agent − client median', 'ping avg / mdev (min)'],
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
    ['N', 'mode', 'synthetic peers CPU (millicores)', 'echoes / TCP answered', 'peers→agent UDP probes done / expected', 'peers→agent packets answered', 'peers→agent TCP passed / completed', 'agent echo RTT median / p99 (µs)', 'peers event-loop delay p99 / max (ms)'],
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

/** The targets, judged on the N = 1000 outbound-only run (undefined when that run is not in the set). */
export function targets(results: readonly ScenarioResult[]): Target[] {
  const r = results.find((result) => result.peers === TARGET_PEERS && result.mode === 'outbound');
  if (!r) {
    return ['CPU ≤ 50 millicores', 'RSS ≤ 64 MiB', 'probes ≥ 99 % of expected', 'median UDP RTT ≤ minimal client + 50 µs'].map((name) => ({ name, measured: `not measured (no N = ${TARGET_PEERS} outbound run)`, pass: undefined }));
  }
  const udp = (r.udp.passed + r.udp.failed) / r.expectedPerTest;
  const tcp = (r.tcp.passed + r.tcp.failed) / r.expectedPerTest;
  const gap = r.rtt.agentHistogram.p50 - r.rtt.client.p50;
  const gapResults = r.rtt.agentResults.p50 - r.rtt.client.p50;
  return [
    { name: 'CPU ≤ 50 millicores', measured: `${num(r.agent.cpuMillicores, 1)} millicores`, pass: r.agent.cpuMillicores <= 50 },
    { name: 'RSS ≤ 64 MiB', measured: `max ${num(r.agent.rssMaxMiB, 1)} MiB (mean ${num(r.agent.rssMeanMiB, 1)})`, pass: r.agent.rssMaxMiB <= 64 },
    { name: 'probes ≥ 99 % of expected', measured: `UDP ${num(udp * 100, 1)} %, TCP ${num(tcp * 100, 1)} %`, pass: udp >= 0.99 && tcp >= 0.99 },
    {
      name: 'median UDP RTT ≤ minimal client + 50 µs',
      measured: `agent ${num(r.rtt.agentHistogram.p50)} µs (histogram; ${num(r.rtt.agentResults.p50)} µs from /results) vs client ${num(r.rtt.client.p50)} µs: +${num(gap)} µs (+${num(gapResults)} µs)`,
      pass: gap <= 50,
    },
  ];
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
- RTT: the agent's per-packet RTT is interpolated inside the \`kconmon_udp_rtt_seconds\` buckets (±½ bucket, i.e. ±25 µs
  below 200 µs); the /results column is the mean of the 5 packets of each peer's last probe at the end of the window (one
  value per peer). The minimal client is a separate Node process with one dgram socket sending one 4-byte datagram every
  50 ms to 5 of the synthetic peers (the same echo process, at the same time). \`ping -c 20 -i 0.2\` (ICMP answered by
  the kernel) is the floor.
- "Other load on host" is the CPU the rest of the machine used during the window: other work sharing the 2 cores
  inflates latency tails and, less, CPU time. MiB = 2^20 bytes.`;

export function renderSection(options: { command: string; machine: MachineInfo; agent: string; windowSeconds: number; warmupSeconds: number; results: readonly ScenarioResult[] }): string {
  const { machine, results } = options;
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
    '### Targets (N = 1000, outbound only)',
    '',
    targetList(targets(results)),
    '',
    ...(proberFloor(results).length > 0 ? ['### Reference: a minimal prober on the same machine', '', ...proberFloor(results), ''] : []),
  ].join('\n');
}
