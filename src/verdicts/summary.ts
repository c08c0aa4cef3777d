// One line per verdict for humans, e.g. "node-4 unreachable from 11 of 12 probers since 12:03:11 (destination problem)".
import type { Finding } from './types.ts';

/** Renders an engine time as a clock time; the default reads it as Unix milliseconds and prints HH:MM:SS UTC. */
export type TimeFormatter = (time: number) => string;

export const utcClockTime: TimeFormatter = (time) => new Date(time).toISOString().slice(11, 19);

function percent(rate: number | undefined): string {
  return `${((rate ?? 0) * 100).toFixed(1)} %`;
}

function ms(value: number | undefined): string {
  return value === undefined ? '?' : `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
}

export function describeFinding(finding: Finding, since: number, formatTime: TimeFormatter = utcClockTime): string {
  const { subject: s, evidence: e } = finding;
  const when = `since ${formatTime(since)}`;
  const zones = `${s.sourceZone} → ${s.destinationZone}`;
  switch (finding.kind) {
    case 'node-destination':
      return `${s.node} unreachable from ${e.failing} of ${e.of} probers ${when} (destination problem)`;
    case 'node-source':
      return `${s.node} cannot reach ${e.failing} of ${e.of} targets that its peers reach ${when} (source problem)`;
    case 'zone-pair':
      return `${zones}: ${e.failing} of ${e.of} paths fail while both zones are healthy inside ${when} (zone partition)`;
    case 'asymmetric-path':
      return `${s.source} → ${s.destination} fails while ${s.destination} → ${s.source} passes ${when} (asymmetric path)`;
    case 'lossy-node':
      return (
        `${s.node} loses ${percent(e.lossRate)} of packets (at least ${percent(e.lossLowerBound)}: ${e.packetsLost} of ${e.packetsSent}), ` +
        `on ${e.failing} of ${e.of} peers ${when} (lossy node)`
      );
    case 'lossy-zone-pair':
      return (
        `${zones} loses ${percent(e.lossRate)} of packets (at least ${percent(e.lossLowerBound)}: ${e.packetsLost} of ${e.packetsSent}), ` +
        `on ${e.failing} of ${e.of} paths ${when} (lossy zone pair)`
      );
    case 'latency-node':
      return `${s.node} RTT ${ms(e.rttMs)}, baseline ${ms(e.baselineMs)}, on ${e.failing} of ${e.of} peers ${when} (latency)`;
    case 'latency-zone-pair':
      return `${zones} RTT ${ms(e.rttMs)}, baseline ${ms(e.baselineMs)}, on ${e.failing} of ${e.of} paths ${when} (latency)`;
    case 'dns-everywhere':
      return `DNS ${s.target} fails from ${e.failing} of ${e.of} nodes ${when} (target or its servers)`;
    case 'dns-some-nodes':
      return `DNS ${s.target} fails from ${e.failing} of ${e.of} nodes (${(e.nodes ?? []).join(', ')}) ${when} (those nodes' side)`;
  }
}
