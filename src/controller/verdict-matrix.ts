// `GET /api/v1/matrix`, the web view's data, computed on request from the last closed verdict window: the zone × zone
// matrix (per zone pair: pairs known and down, fail share, loss over the loss windows, median RTT), the node × node
// matrix of one zone pair (`?zones=A,B`), or one node's pairs both ways (`?node=N`). It carries the status document
// (window, health, coverage, verdicts) so one poll gives the view everything, and a version that changes only when a
// window closes or the agent set changes: the ETag, so an unchanged poll costs a 304 and nothing is computed.
import type { PairView } from '../verdicts/pair-state.ts';
import { median } from '../verdicts/median.ts';
import type { Topology } from '../verdicts/types.ts';
import { buildStatus, type StatusDocument } from './verdict-status.ts';
import type { ClosedWindow } from './verdict-windows.ts';

export const MATRIX_PATH = '/api/v1/matrix';

export type MatrixQuery =
  | { readonly view: 'zones' }
  | { readonly view: 'zone-pair'; readonly sourceZone: string; readonly destinationZone: string }
  | { readonly view: 'node'; readonly node: string };

/** One cell: a zone pair (its node pairs summed) or one node pair. */
export interface MatrixCell {
  readonly source: string;
  readonly destination: string;
  /** Node pairs with a reachability status this window … */
  readonly known: number;
  /** … and how many of them are down. */
  readonly down: number;
  /** down / known, or null without a known pair. */
  readonly failShare: number | null;
  /** UDP packets of the tests that got a reply, over the loss windows, and how many of them were lost. */
  readonly packetsSent: number;
  readonly packetsLost: number;
  /** packetsLost / packetsSent, or null without packets. */
  readonly loss: number | null;
  /** Median RTT of the window in ms, or null. */
  readonly rttMs: number | null;
}

export interface Matrix {
  readonly rows: readonly string[];
  readonly columns: readonly string[];
  /** Only the cells with data (bounded probing leaves most node pairs of a large cluster unprobed). */
  readonly cells: readonly MatrixCell[];
}

export interface MatrixDocument extends StatusDocument {
  /** Changes when a window closes or the agent set changes (the ETag). */
  readonly version: string;
  /** The controller's clock when this was computed: verdict ages are relative to it. */
  readonly generatedAt: string;
  readonly query: MatrixQuery;
  /** Every zone with an agent or a pair in the window, sorted. */
  readonly zones: readonly string[];
  /** Zones: zone × zone; a zone pair: its source zone's nodes × its destination zone's; a node: that node → its peers. */
  readonly matrix: Matrix;
  /** A node: its peers → that node. */
  readonly incoming?: Matrix;
}

export interface MatrixInputs {
  readonly controller: string;
  readonly windowMs: number;
  readonly closed: ClosedWindow | undefined;
  readonly topology: Topology;
  /** The agent set's version (part of the document's version). */
  readonly agentSetVersion: number;
  readonly now: number;
}

/** The version of the document the inputs give (cheap: no matrix is computed). */
export function matrixVersion(controller: string, closed: ClosedWindow | undefined, agentSetVersion: number): string {
  return `${controller}-${closed?.report.windowEnd ?? 0}-${agentSetVersion}`;
}

const PARAMETERS = new Set(['zones', 'node']);
/** A zone as the agents' Nodes label it (or a peers file names it): printable, no comma (the separator here). */
const ZONE = /^[^\s,\p{Cc}]{1,253}$/u;
const NODE = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** The query of `GET /api/v1/matrix`, or one line saying what is wrong with it. */
export function parseMatrixQuery(parameters: URLSearchParams): MatrixQuery | { readonly error: string } {
  for (const name of new Set(parameters.keys())) {
    if (!PARAMETERS.has(name)) return { error: `unknown query parameter ${JSON.stringify(name.slice(0, 64))}: use zones=A,B or node=N` };
    if (parameters.getAll(name).length > 1) return { error: `query parameter "${name}" given more than once` };
  }
  const zones = parameters.get('zones');
  const node = parameters.get('node');
  if (zones !== null && node !== null) return { error: 'give zones=A,B or node=N, not both' };
  if (node !== null) {
    if (!NODE.test(node)) return { error: 'query parameter "node" must be a node name (a Kubernetes object name)' };
    return { view: 'node', node };
  }
  if (zones !== null) {
    const parts = zones.split(',');
    if (parts.length !== 2 || !parts.every((zone) => ZONE.test(zone))) {
      return { error: 'query parameter "zones" must be two zone names separated by a comma: zones=<source zone>,<destination zone>' };
    }
    return { view: 'zone-pair', sourceZone: parts[0]!, destinationZone: parts[1]! };
  }
  return { view: 'zones' };
}

/** The document for a query, or a 404 line when it names a zone or node the controller does not know. */
export function buildMatrix(inputs: MatrixInputs, query: MatrixQuery): MatrixDocument | { readonly notFound: string } {
  const { closed, topology } = inputs;
  const pairs = closed?.report.pairs ?? [];
  const zoneOfNode = new Map<string, string>(topology.nodes.map((node) => [node.name, node.zone]));
  for (const pair of pairs) {
    if (!zoneOfNode.has(pair.source)) zoneOfNode.set(pair.source, pair.sourceZone);
    if (!zoneOfNode.has(pair.destination)) zoneOfNode.set(pair.destination, pair.destinationZone);
  }
  const zones = [...new Set(zoneOfNode.values())].sort(byName);
  let matrix: Matrix;
  let incoming: Matrix | undefined;
  if (query.view === 'zones') {
    matrix = { rows: zones, columns: zones, cells: cellsBy(pairs, (pair) => [pair.sourceZone, pair.destinationZone]) };
  } else if (query.view === 'zone-pair') {
    for (const zone of [query.sourceZone, query.destinationZone]) if (!zones.includes(zone)) return { notFound: `no zone named ${JSON.stringify(zone)}` };
    const inZone = (zone: string) => [...zoneOfNode].filter(([, nodeZone]) => nodeZone === zone).map(([name]) => name);
    const selected = pairs.filter((pair) => pair.sourceZone === query.sourceZone && pair.destinationZone === query.destinationZone);
    matrix = { rows: inZone(query.sourceZone).sort(byName), columns: inZone(query.destinationZone).sort(byName), cells: cellsBy(selected, nodePair) };
  } else {
    if (!zoneOfNode.has(query.node)) return { notFound: `no node named ${JSON.stringify(query.node)}` };
    const outgoing = pairs.filter((pair) => pair.source === query.node);
    const toIt = pairs.filter((pair) => pair.destination === query.node);
    const peers = [...new Set([...outgoing.map((pair) => pair.destination), ...toIt.map((pair) => pair.source)])];
    // Peers grouped by zone, then by name: the node's own zone reads first.
    const ownZone = zoneOfNode.get(query.node)!;
    peers.sort((a, b) => zoneRank(a) - zoneRank(b) || byName(zoneOfNode.get(a)!, zoneOfNode.get(b)!) || byName(a, b));
    function zoneRank(name: string): number {
      return zoneOfNode.get(name) === ownZone ? 0 : 1;
    }
    matrix = { rows: [query.node], columns: peers, cells: cellsBy(outgoing, nodePair) };
    incoming = { rows: peers, columns: [query.node], cells: cellsBy(toIt, nodePair) };
  }
  return {
    ...buildStatus(inputs.controller, inputs.windowMs, closed, topology),
    version: matrixVersion(inputs.controller, closed, inputs.agentSetVersion),
    generatedAt: new Date(inputs.now).toISOString(),
    query,
    zones,
    matrix,
    ...(incoming ? { incoming } : {}),
  };
}

const nodePair = (pair: PairView): [string, string] => [pair.source, pair.destination];

/** Names in reading order: node-2 before node-10. */
function byName(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** Sums the pairs into one cell per (row, column) key, in the order the cells first appear. */
function cellsBy(pairs: readonly PairView[], keyOf: (pair: PairView) => [string, string]): MatrixCell[] {
  const groups = new Map<string, { source: string; destination: string; known: number; down: number; sent: number; lost: number; rtts: number[] }>();
  for (const pair of pairs) {
    const [source, destination] = keyOf(pair);
    const key = `${source}\n${destination}`;
    let group = groups.get(key);
    if (!group) {
      group = { source, destination, known: 0, down: 0, sent: 0, lost: 0, rtts: [] };
      groups.set(key, group);
    }
    if (pair.status !== undefined) group.known++;
    if (pair.status === 'down') group.down++;
    group.sent += pair.lossSent;
    group.lost += pair.lossLost;
    if (pair.rttMs !== undefined) group.rtts.push(pair.rttMs);
  }
  return [...groups.values()].map(({ source, destination, known, down, sent, lost, rtts }) => ({
    source,
    destination,
    known,
    down,
    failShare: known > 0 ? down / known : null,
    packetsSent: sent,
    packetsLost: lost,
    loss: sent > 0 ? lost / sent : null,
    rttMs: median(rtts) ?? null,
  }));
}
