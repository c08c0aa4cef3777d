// The series budget at 5,000 nodes with the defaults (probing.maxPeers 18, one DNS target): over the real selection
// the agents compute, every agent exports ≤ 400 series (histograms and Node.js process metrics included) and the
// cluster ≤ 2 million, with 3 zones and with 50; the busiest agent's count is the real registry's, and an agent at the
// budget's cap (18 peers, both destination scopes) stays under 400 too.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseAgentConfig } from '../../src/config/load.ts';
import { renderAgent, renderProcessMetrics, syntheticNodes } from '../../src/commands/plan.ts';
import { resolveDnsTargets } from '../../src/config/schema.ts';
import { DEFAULT_MAX_PEERS, selectPeers } from '../../src/topology/peer-selection.ts';
import { agentSeries, destinationScopes } from '../../src/topology/series-model.ts';
import type { Peer } from '../../src/discovery/peer.ts';

const PER_AGENT = 400;
const CLUSTER = 2_000_000;
const config = parseAgentConfig({ discovery: { peersFile: 'peers.yaml' } }, 'default configuration');
const dnsTargets = resolveDnsTargets(config).length;

/** The real registries: the agent's metrics with these peers (one result of each kind) plus the process metrics. */
async function renderedSeries(source: { nodeName: string; zone: string }, peers: readonly Peer[]): Promise<number> {
  const process = await renderProcessMetrics({ source: source.nodeName, source_zone: source.zone });
  return (await renderAgent(config, source, peers, dnsTargets)).series + process.series;
}

describe('series budget at 5,000 nodes, defaults', { concurrency: true }, () => {
  const base = (async () => {
    const process = await renderProcessMetrics({ source: 'base', source_zone: 'zone-a' });
    return (await renderAgent(config, { nodeName: 'base', zone: 'zone-a' }, [], 0)).series + process.series;
  })();

  for (const zones of [3, 50]) {
    it(`${zones} zones: every agent ≤ ${PER_AGENT} series, the cluster ≤ 2 million`, async () => {
      assert.equal(dnsTargets, 1, 'the default configuration probes one DNS target');
      const nodes = syntheticNodes(5000, zones);
      const zoneOf = new Map(nodes.map((node) => [node.name, node.zone] as const));
      const assignment = selectPeers(nodes, { maxPeers: DEFAULT_MAX_PEERS });
      const baseSeries = await base;
      let cluster = 0;
      let busiest = { name: '', series: -1 };
      for (const [source, targets] of assignment.targets) {
        const scopes = destinationScopes(
          zoneOf.get(source)!,
          targets.map((target) => zoneOf.get(target)!),
        );
        const series = agentSeries({ baseSeries, dnsTargets, peers: targets.length, destinationScopes: scopes });
        assert.ok(series <= PER_AGENT, `${source}: ${series} series (${targets.length} peers, ${scopes} scopes)`);
        cluster += series;
        if (series > busiest.series) busiest = { name: source, series };
      }
      assert.equal(assignment.targets.size, 5000);
      assert.ok(cluster <= CLUSTER, `cluster-wide ${cluster}`);
      // The model's busiest agent, rendered for real.
      const peers = (assignment.targets.get(busiest.name) ?? []).map((name) => ({ name, nodeName: name, ip: '10.0.0.1', zone: zoneOf.get(name)! }));
      assert.equal(await renderedSeries({ nodeName: busiest.name, zone: zoneOf.get(busiest.name)! }, peers), busiest.series);
    });
  }

  it(`an agent at the cap (${DEFAULT_MAX_PEERS} peers, same zone and other zones) renders ≤ ${PER_AGENT} series`, async () => {
    const peers = Array.from({ length: DEFAULT_MAX_PEERS }, (_, index) => ({
      name: `peer-${index}`,
      nodeName: `node-${index}`,
      ip: '10.0.0.1',
      zone: `zone-${index}`, // zone-0 is the agent's own, the others 17 different zones
    }));
    const series = await renderedSeries({ nodeName: 'capped', zone: 'zone-0' }, peers);
    assert.ok(series <= PER_AGENT, `${series} series`);
    assert.equal(series, agentSeries({ baseSeries: await base, dnsTargets, peers: DEFAULT_MAX_PEERS, destinationScopes: 2 }));
  });
});
