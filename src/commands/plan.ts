// `kconmon plan`: what an install costs before it is installed. From a node count and zones (`--nodes 5000 --zones 3`)
// or a real node list (`kubectl get nodes -o json` on stdin), computes the peer assignment the agents would compute and
// prints peers and packets per second per agent, series per agent and cluster-wide, in-degrees, zone coverage and the
// scrape size. Intervals and packets come from the agent configuration's defaults, or from `--config FILE`.
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { loadAgentConfig, parseAgentConfig } from '../config/load.ts';
import { resolveDnsTargets, type AgentConfig } from '../config/schema.ts';
import { collectProcessMetrics } from '../metrics/agent-metrics.ts';
import { createFilledAgentRegistry } from './filled-agent-registry.ts';
import { assignmentStats } from '../topology/assignment-stats.ts';
import { DEFAULT_MAX_PEERS, selectPeers, type PeerAssignment, type TopologyNode } from '../topology/peer-selection.ts';
import {
  RUNTIME_KIND_SERIES,
  SERIES_PER_DESTINATION_SCOPE,
  SERIES_PER_DNS_TARGET,
  SERIES_PER_PEER,
  agentSeries,
  destinationScopes,
} from '../topology/series-model.ts';
import { guardedHandler } from '../util/guarded-handler.ts';
import type { Peer } from '../discovery/peer.ts';

export const ZONE_LABEL = 'topology.kubernetes.io/zone';

/** Bad arguments or input: printed as one line, exit status 2. */
export class PlanInputError extends Error {}

export interface PlanInput {
  readonly nodes: readonly TopologyNode[];
  readonly maxPeers: number;
  readonly config: AgentConfig;
  /** How the node list was obtained, for the header line. */
  readonly origin: string;
}

/** Runs `kconmon plan ARGS`; returns the exit status. */
export async function runPlanCommand(args: readonly string[], stdin: NodeJS.ReadableStream & { isTTY?: boolean }): Promise<number> {
  try {
    const { values } = parseArgs({
      args: [...args],
      options: { nodes: { type: 'string' }, zones: { type: 'string' }, 'max-peers': { type: 'string' }, config: { type: 'string', short: 'c' } },
      strict: true,
    });
    const maxPeers = values['max-peers'] === undefined ? DEFAULT_MAX_PEERS : integer(values['max-peers'], '--max-peers', 1, 10_000);
    const config =
      values.config === undefined
        ? parseAgentConfig({ discovery: { peersFile: 'peers.yaml' } }, 'default configuration')
        : await loadAgentConfig(values.config);
    let nodes: TopologyNode[];
    let origin: string;
    if (values.nodes !== undefined) {
      const count = integer(values.nodes, '--nodes', 1, 100_000);
      const zones = values.zones === undefined ? 1 : integer(values.zones, '--zones', 1, count);
      nodes = syntheticNodes(count, zones);
      origin = `--nodes ${count} --zones ${zones} (synthetic names, zones of equal size)`;
    } else {
      if (values.zones !== undefined) throw new PlanInputError('--zones needs --nodes (a node list on stdin brings its own zones)');
      if (stdin.isTTY) throw new PlanInputError('give --nodes N [--zones Z], or a node list on stdin (kubectl get nodes -o json | kconmon plan)');
      nodes = parseNodeList(await readAll(stdin));
      origin = `node list on stdin (zone from ${ZONE_LABEL})`;
    }
    for (const line of await planReport({ nodes, maxPeers, config, origin })) console.log(line);
    return 0;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (error instanceof PlanInputError || code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`kconmon plan: ${(error as Error).message}`);
      return 2;
    }
    throw error;
  }
}

/** `count` nodes named like cloud nodes, spread round-robin over `zones` zones. */
export function syntheticNodes(count: number, zones: number): TopologyNode[] {
  return Array.from({ length: count }, (_, index) => ({
    name: `ip-10-${(index >> 16) & 255}-${(index >> 8) & 255}-${index & 255}.region.compute.internal`,
    zone: `zone-${String.fromCharCode(97 + ((index % zones) % 26))}${index % zones >= 26 ? Math.floor((index % zones) / 26) : ''}`,
  }));
}

/** Nodes of a `kubectl get nodes -o json` document (a v1 List of Nodes); a node without the zone label is `unknown`. */
export function parseNodeList(text: string): TopologyNode[] {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new PlanInputError(`stdin: not JSON (${(error as Error).message}); expected the output of kubectl get nodes -o json`);
  }
  const items = (document as { items?: unknown })?.items;
  if (!Array.isArray(items)) throw new PlanInputError('stdin: no "items" list; expected the output of kubectl get nodes -o json');
  const seen = new Set<string>();
  return items.map((item, index) => {
    const metadata = (item as { metadata?: { name?: unknown; labels?: Record<string, unknown> } })?.metadata;
    const name = metadata?.name;
    if (typeof name !== 'string' || name === '') throw new PlanInputError(`stdin: items[${index}].metadata.name: must be a non-empty string`);
    if (seen.has(name)) throw new PlanInputError(`stdin: items[${index}].metadata.name: duplicate node "${name}"`);
    seen.add(name);
    const zone = metadata?.labels?.[ZONE_LABEL];
    return { name, zone: typeof zone === 'string' && zone !== '' ? zone : 'unknown' };
  });
}

/** The report's lines. */
export async function planReport(input: PlanInput): Promise<string[]> {
  const { nodes, maxPeers, config } = input;
  if (nodes.length === 0) throw new PlanInputError('no nodes to plan for');
  const assignment = selectPeers(nodes, { maxPeers });
  const stats = assignmentStats(nodes, assignment);
  const zoneOf = new Map(nodes.map((node) => [node.name, node.zone] as const));
  const zoneSizes = new Map<string, number>();
  for (const node of nodes) zoneSizes.set(node.zone, (zoneSizes.get(node.zone) ?? 0) + 1);
  const sizes = [...zoneSizes.values()];

  // Rates: each loop runs every interval plus the mean jitter.
  const jitterMs = (config.jitter.min + config.jitter.max) / 2;
  const udpPerPeer = config.udp.enabled ? config.udp.packets / ((config.udp.interval + jitterMs) / 1000) : 0;
  const tcpPerPeer = config.tcp.enabled ? 1 / ((config.tcp.interval + jitterMs) / 1000) : 0;
  const dnsTargets = config.dns.enabled ? resolveDnsTargets(config).length : 0;

  // Series: the agent's base measured on the real registry, the rest from the model; the agent with the most series
  // is rendered for real too (its count must equal the model's).
  // The Node.js process metrics are rendered apart: their by-kind handle and resource gauges depend on what the process
  // holds at the scrape, so they are counted as RUNTIME_KIND_SERIES; the agent's own series are checked exactly.
  const processMetrics = await renderProcessMetrics(busiestSource(assignment, zoneOf));
  const base = await renderAgent(config, { nodeName: 'plan-base', zone: 'unknown' }, [], 0);
  const baseSeries = base.series + processMetrics.series;
  const seriesOf = (peers: number, scopes: number) => agentSeries({ baseSeries, dnsTargets, peers, destinationScopes: scopes });
  let busiest: [string, readonly string[]] = ['', []];
  let maxSeries = -1;
  let over400 = 0;
  for (const [source, targets] of assignment.targets) {
    const series = seriesOf(
      targets.length,
      destinationScopes(
        zoneOf.get(source)!,
        targets.map((target) => zoneOf.get(target)!),
      ),
    );
    if (series > 400) over400++;
    if (series > maxSeries) [maxSeries, busiest] = [series, [source, targets]];
  }
  const busiestRender = await renderAgent(
    config,
    { nodeName: busiest[0], zone: zoneOf.get(busiest[0])! },
    busiest[1].map((name) => ({ name, nodeName: name, ip: '10.0.0.1', zone: zoneOf.get(name)! })),
    dnsTargets,
  );
  const meanSeries = seriesOf(stats.outDegree.mean, stats.destinationScopesTotal / stats.nodes);
  const clusterSeries = stats.nodes * seriesOf(0, 0) + stats.pairs * SERIES_PER_PEER + stats.destinationScopesTotal * SERIES_PER_DESTINATION_SCOPE;
  const bytesPerSeries = (busiestRender.bytes - base.bytes) / Math.max(1, busiestRender.series - base.series);
  const meanBytes = processMetrics.bytes + base.bytes + bytesPerSeries * (meanSeries - baseSeries);
  const maxBytes = processMetrics.bytes + busiestRender.bytes;

  const covered = stats.nodesCoveredFromAllZones;
  return [
    `kconmon plan: ${fmt(stats.nodes)} nodes in ${stats.zones} zone${stats.zones === 1 ? '' : 's'} (sizes ${Math.min(...sizes)}–${Math.max(...sizes)}), ` +
      `probing.maxPeers ${maxPeers}; from ${input.origin}`,
    assignment.fullMesh
      ? `assignment: full mesh (N − 1 = ${stats.nodes - 1} ≤ maxPeers ${maxPeers})`
      : `assignment: selected peers (a full mesh would be ${fmt(stats.nodes - 1)} per agent); target ${assignment.probersPerNode} probers per node, ` +
        `${assignment.sameZoneProbers} of them from its own zone`,
    `  peers per agent (out-degree): min ${stats.outDegree.min}, mean ${dec(stats.outDegree.mean)}, max ${stats.outDegree.max}`,
    `  probers per node (in-degree): min ${stats.inDegree.min}, mean ${dec(stats.inDegree.mean)}, max ${stats.inDegree.max}`,
    `  zone coverage: ${fmt(covered)} of ${fmt(stats.nodes)} nodes probed from every other zone, ` +
      `${fmt(stats.nodesWithSameZoneProbers)} by ≥ 2 agents of their own zone (or all it has)`,
    `  zone pairs (source zone → destination zone) probed: ${fmt(stats.zonePairsCovered)} of ${fmt(stats.zonePairsPossible)}`,
    `  probes past a full agent (spilled): ${assignment.spilled}; probe slots left unfilled: ${assignment.unfilled}`,
    `traffic per agent (udp: ${config.udp.packets} × ${config.udp.packetSize} B every ${config.udp.interval} ms, tcp every ${config.tcp.interval} ms, ` +
      `+ ${jitterMs} ms mean jitter):`,
    `  UDP probe packets sent/s: mean ${dec(udpPerPeer * stats.outDegree.mean)}, max ${dec(udpPerPeer * stats.outDegree.max)}; ` +
      `echo replies sent/s: mean ${dec(udpPerPeer * stats.inDegree.mean)}, max ${dec(udpPerPeer * stats.inDegree.max)}`,
    `  TCP tests (new connections)/s: mean ${dec(tcpPerPeer * stats.outDegree.mean)}, max ${dec(tcpPerPeer * stats.outDegree.max)}; ` +
      `served/s: mean ${dec(tcpPerPeer * stats.inDegree.mean)}, max ${dec(tcpPerPeer * stats.inDegree.max)}`,
    `series per agent = ${base.series} agent + ${processMetrics.series} Node.js process ` +
      `+ ${SERIES_PER_DNS_TARGET} × ${dnsTargets} DNS target${dnsTargets === 1 ? '' : 's'} + ${SERIES_PER_PEER} × peers ` +
      `+ ${SERIES_PER_DESTINATION_SCOPE} × destination scopes (histograms: same zone, other zones)`,
    `  per agent: mean ${fmt(Math.round(meanSeries))}, max ${fmt(maxSeries)} ` +
      `(that agent rendered: ${fmt(busiestRender.series + processMetrics.series)}); agents over 400: ${fmt(over400)}`,
    `  cluster-wide: ${fmt(clusterSeries)} (${fmt(stats.pairs)} probed pairs, ${fmt(stats.destinationScopesTotal)} agent × destination-scope histograms)`,
    `scrape size per agent: mean ${kib(meanBytes)}, max ${kib(maxBytes)} (rendered); cluster-wide ${mib(meanBytes * stats.nodes)} per scrape round`,
  ];
}

interface Rendered {
  readonly series: number;
  readonly bytes: number;
}

/** The agent with the most peers, for the labels the process metrics carry. */
function busiestSource(assignment: PeerAssignment, zoneOf: ReadonlyMap<string, string>): { source: string; source_zone: string } {
  let best = ['', 0] as [string, number];
  for (const [name, targets] of assignment.targets) if (targets.length >= best[1]) best = [name, targets.length];
  return { source: best[0], source_zone: zoneOf.get(best[0]) ?? 'unknown' };
}

/**
 * The Node.js process metrics the agent collects (with the agent's default labels), rendered; the by-kind handle and
 * resource gauges are counted as RUNTIME_KIND_SERIES (their bytes as the mean line's).
 */
export async function renderProcessMetrics(labels: { source: string; source_zone: string }): Promise<Rendered> {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  collectProcessMetrics(registry);
  const text = await registry.metrics();
  const rendered = count(text);
  const byKind = text.split('\n').filter((line) => /^nodejs_active_(handles|resources)\{/.test(line)).length;
  const seriesExceptByKind = rendered.series - byKind;
  return {
    series: seriesExceptByKind + RUNTIME_KIND_SERIES,
    bytes: Math.round(rendered.bytes + ((RUNTIME_KIND_SERIES - byKind) * rendered.bytes) / Math.max(1, rendered.series)),
  };
}

function count(text: string): Rendered {
  return { series: text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length, bytes: Buffer.byteLength(text) };
}

/**
 * Renders a real agent registry (without process metrics) holding these peers (one passed UDP and TCP result each)
 * and DNS targets, with the HTTP server's own counters and one echoed request (every agent is probed).
 */
export async function renderAgent(
  config: AgentConfig,
  source: { nodeName: string; zone: string },
  peers: readonly Peer[],
  dnsTargets: number,
): Promise<Rendered> {
  const prefix = config.metricsPrefix;
  const { registry, agentMetrics } = createFilledAgentRegistry({
    prefix,
    source,
    version: 'plan',
    processMetrics: false,
    controllerDiscovery: true,
    peers,
    udpRttMicros: [250],
    dnsTargets: resolveDnsTargets(config).slice(0, dnsTargets),
  });
  agentMetrics.echo('echoed');
  guardedHandler(async () => {}, { registry, metricsPrefix: prefix });
  return count(await registry.metrics());
}

function integer(text: string, flag: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new PlanInputError(`${flag}: must be an integer from ${min} to ${max} (got "${text}")`);
  return value;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

const fmt = (value: number) => Math.round(value).toLocaleString('en-US');
const dec = (value: number) => value.toFixed(1);
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
