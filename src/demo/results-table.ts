// Renders the demo's live table (source → destination: UDP RTT and loss, TCP connect and total, status) from the
// `/results` snapshots of every agent.
import type { AgentResults, ResultEntry } from '../agent/results.ts';

export type AgentSnapshot = Pick<AgentResults, 'node' | 'zone' | 'latest' | 'failures'>;
type EntryOf<Name extends ResultEntry['test']> = Extract<ResultEntry, { test: Name }>;

interface Row {
  readonly source: string;
  readonly destination: string;
  readonly udpRtt: string;
  readonly udpLoss: string;
  readonly tcpConnect: string;
  readonly tcpTotal: string;
  readonly status: string;
}

export function renderResultsTable(snapshots: readonly AgentSnapshot[]): string {
  const rows: Row[] = [];
  const dnsLines: string[] = [];
  for (const snapshot of snapshots) {
    const byDestination = new Map<string, { udp?: EntryOf<'udp'>; tcp?: EntryOf<'tcp'>; zone?: string | undefined }>();
    for (const entry of snapshot.latest) {
      if (entry.test === 'dns') {
        dnsLines.push(
          `${snapshot.node} dns ${entry.target}: ${entry.passed ? 'ok' : `FAIL ${String(entry.summary.reason)}`} ${formatMs(entry.summary.durationMs)}`,
        );
        continue;
      }
      const row = byDestination.get(entry.target) ?? {};
      if (entry.test === 'udp') row.udp = entry;
      else if (entry.test === 'tcp') row.tcp = entry;
      else continue; // a kind the table has no column for
      row.zone = entry.targetZone;
      byDestination.set(entry.target, row);
    }
    for (const [destination, { udp, tcp, zone }] of [...byDestination].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))) {
      const problems: string[] = [];
      if (udp && !udp.passed) problems.push(`udp loss ${String(udp.summary.lossPercent)}%`);
      if (tcp && !tcp.passed) problems.push(`tcp ${String(tcp.summary.reason)}`);
      rows.push({
        source: `${snapshot.node} (${snapshot.zone})`,
        destination: `${destination} (${zone ?? '?'})`,
        udpRtt: udp ? formatMs(udp.summary.averageMs) : '–',
        udpLoss: udp ? `${String(udp.summary.lossPercent)}%` : '–',
        tcpConnect: tcp ? formatMs(tcp.summary.connectMs) : '–',
        tcpTotal: tcp ? formatMs(tcp.summary.totalMs) : '–',
        status: !udp && !tcp ? 'waiting' : problems.length > 0 ? `FAIL ${problems.join(', ')}` : 'ok',
      });
    }
  }
  const header: Row = {
    source: 'SOURCE',
    destination: 'DESTINATION',
    udpRtt: 'UDP RTT',
    udpLoss: 'UDP LOSS',
    tcpConnect: 'TCP CONNECT',
    tcpTotal: 'TCP TOTAL',
    status: 'STATUS',
  };
  const columns = Object.keys(header) as (keyof Row)[];
  const widths = columns.map((column) => Math.max(header[column].length, ...rows.map((row) => row[column].length)));
  const line = (row: Row) =>
    columns
      .map((column, index) => row[column].padEnd(widths[index] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line), ...dnsLines].join('\n');
}

function formatMs(value: number | null): string {
  return typeof value === 'number' ? `${value.toFixed(3)} ms` : '–';
}
