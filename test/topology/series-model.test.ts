// The cardinality model (src/topology/series-model.ts) against the real agent registry: series per peer, per
// destination zone and per DNS target are what the agent's metrics and its probe kinds' metrics export after one result of each kind.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseAgentConfig } from '../../src/config/load.ts';
import { renderAgent } from '../../src/commands/plan.ts';
import { SERIES_PER_DESTINATION_ZONE, SERIES_PER_DNS_TARGET, SERIES_PER_PEER, agentSeries } from '../../src/topology/series-model.ts';

/** The real registry (kconmon plan's renderer: the agent's metrics and every probe kind's) after one result each. */
async function seriesOf(peers: number, zones: number, dnsTargets: number): Promise<number> {
  const targets = Array.from({ length: dnsTargets }, (_, index) => `host-${index}.example`);
  const config = parseAgentConfig({ discovery: { peersFile: 'peers.yaml' }, dns: { targets: targets.length > 0 ? targets : ['unused.example'] } }, 'test');
  const list = Array.from({ length: peers }, (_, index) => ({ name: `agent-${index}`, nodeName: `node-${index}`, ip: '10.0.0.1', zone: `z-${index % zones}` }));
  return (await renderAgent(config, { nodeName: 'self', zone: 'z-self' }, list, dnsTargets)).series;
}

describe('series model', () => {
  it('matches the real registry: base + 27 per DNS target + 13 per peer + 72 per destination zone', async () => {
    const base = await seriesOf(0, 1, 0);
    assert.equal(SERIES_PER_PEER, 13);
    assert.equal(SERIES_PER_DESTINATION_ZONE, 72);
    assert.equal(SERIES_PER_DNS_TARGET, 27);
    for (const [peers, zones, dns] of [
      [1, 1, 0],
      [10, 1, 1],
      [10, 3, 2],
      [40, 7, 1],
    ] as const) {
      const expected = agentSeries({ baseSeries: base, dnsTargets: dns, peers, destinationZones: Math.min(peers, zones) });
      assert.equal(await seriesOf(peers, zones, dns), expected, `${peers} peers, ${zones} zones, ${dns} DNS`);
    }
  });
});
