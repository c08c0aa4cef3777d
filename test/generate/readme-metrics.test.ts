// The README's metrics tables are a hand-kept copy of what the agent and the controller register (their metrics and
// their HTTP servers' own counters): every metric either exports is a row with its type, and every row is one of
// them (default prefix).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { PROBE_TABLE } from '../../src/agent/probe-table.ts';
import { createAgentMetrics } from '../../src/metrics/agent-metrics.ts';
import { createSourceLabels } from '../../src/metrics/kind-metrics.ts';
import { createControllerMetrics } from '../../src/metrics/controller-metrics.ts';
import { createVerdictMetrics } from '../../src/metrics/verdict-metrics.ts';
import { guardedHandler } from '../../src/util/guarded-handler.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** `| `kconmon_x` | type | …` rows of README.md: name → type. */
function readmeRows(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of readFileSync(path.join(ROOT, 'README.md'), 'utf8').split('\n')) {
    const match = /^\| `(kconmon_[a-z_]+)` \| (\w+) \|/.exec(line);
    if (match) rows.set(match[1] as string, match[2] as string);
  }
  return rows;
}

describe('README metrics tables', () => {
  it('list exactly the agent and controller metrics, each with its type', async () => {
    const registry = new Registry();
    const labels = createSourceLabels({ nodeName: 'node-a', zone: 'zone-a' });
    createAgentMetrics({ registry, prefix: 'kconmon', labels, version: 'test', processMetrics: false, controllerDiscovery: true });
    // Every probe kind's metrics module, as the agent creates them from the probe table.
    for (const entry of PROBE_TABLE) entry.metrics({ registry, prefix: 'kconmon', labels, peerAt: () => undefined });
    guardedHandler(async () => {}, { registry, metricsPrefix: 'kconmon' });
    // The controller's registry and server prefix, as src/controller/controller.ts creates them.
    const controllerRegistry = new Registry();
    createControllerMetrics(controllerRegistry, 'kconmon', false);
    createVerdictMetrics(controllerRegistry, 'kconmon');
    guardedHandler(async () => {}, { registry: controllerRegistry, metricsPrefix: 'kconmon_controller' });
    const metrics = [...(await registry.getMetricsAsJSON()), ...(await controllerRegistry.getMetricsAsJSON())];
    const registered = new Map(metrics.map((metric) => [metric.name, String(metric.type)]));
    assert.ok(registered.size > 30, `only ${registered.size} metrics registered`);
    assert.deepEqual(new Map([...readmeRows()].sort()), new Map([...registered].sort()));
  });
});
