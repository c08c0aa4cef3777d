// The probe table: every probe kind the agent runs, with where its targets come from and its metrics module. Everything
// else is derived from it (as pino derives its level methods from one table of levels): scheduling, series creation
// and removal, forgetting a departed peer, and the `/results` contract (results.ts). A new kind is one probe file
// (src/probes/), one entry here, one branch of the config schema and one metrics module (src/metrics/).
import type { DnsTarget } from '../config/schema.ts';
import { peerKey, type Peer } from '../discovery/peer.ts';
import { createDnsMetrics } from '../metrics/dns-metrics.ts';
import { createTcpMetrics } from '../metrics/tcp-metrics.ts';
import { createUdpMetrics } from '../metrics/udp-metrics.ts';
import { configuredDnsTargets, dnsProbe } from '../probes/dns.ts';
import { tcpProbe } from '../probes/tcp.ts';
import { udpProbe } from '../probes/udp.ts';
import { probeEntry, type TargetSource } from './probe-kinds.ts';

/** Every peer agent, one per node: series and `/results` name the node. */
const peerTargets: TargetSource<Peer> = {
  followsPeers: true,
  targets: (_config, peers) => peers,
  key: (peer) => peer.nodeName,
  version: peerKey,
  zone: (peer) => peer.zone,
  // Spread over the interval, so that a thousand peers are not probed in one burst.
  firstRun: (config, intervalMs) => ({ delayMs: config.discovery.newPeerDelay, spreadMs: intervalMs }),
};

/** The DNS targets the config lists: series and `/results` name each by its label. */
const dnsTargets: TargetSource<DnsTarget> = {
  followsPeers: false,
  targets: (config) => configuredDnsTargets(config),
  key: (target) => target.label,
  version: (target) => target.label,
  zone: () => undefined,
  // A few targets, known from the start: first results within a second.
  firstRun: (_config, intervalMs) => ({ delayMs: 0, spreadMs: Math.min(intervalMs, 1000) }),
};

export const PROBE_TABLE = [
  probeEntry({ probe: udpProbe, targets: peerTargets, metrics: createUdpMetrics }),
  probeEntry({ probe: tcpProbe, targets: peerTargets, metrics: createTcpMetrics }),
  probeEntry({ probe: dnsProbe, targets: dnsTargets, metrics: createDnsMetrics }),
] as const;

export type ProbeTable = typeof PROBE_TABLE;
