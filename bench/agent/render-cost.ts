// `node --expose-gc --max-semi-space-size=1 bench/agent/render-cost.ts [1000,3000]`: what one /metrics render costs with
// the agent's real metrics (its own and the UDP and TCP kinds', every peer with results): prom-client's registry.metrics()
// against the sliced renderer (src/metrics/exposition-renderer.ts): the longest stretch the event loop is held, the
// total time, the bytes of text, and the heap allocated (heapUsed growth). Run it with the agent's 1 MiB semi-spaces
// for the times (GC pauses as in the agent), and with --max-semi-space-size=64 for the allocation (no collection runs
// during one render then, so heapUsed growth is what it allocated). Medians of 5 renders after 2 warm-up renders.
import type { Registry } from 'prom-client';
import { createFilledAgentRegistry } from '../../src/commands/filled-agent-registry.ts';
import { createExpositionRenderer } from '../../src/metrics/exposition-renderer.ts';
import type { Peer } from '../../src/discovery/peer.ts';

interface Cost {
  readonly longestBlockMs: number;
  readonly totalMs: number;
  readonly bytes: number;
  readonly allocatedMiB: number;
}

function agentRegistry(peers: number): Registry {
  const { registry } = createFilledAgentRegistry({
    prefix: 'kconmon',
    source: { nodeName: 'bench-node', zone: 'zone-a' },
    version: 'bench',
    processMetrics: true,
    controllerDiscovery: false,
    peers: Array.from(
      { length: peers },
      (_, index): Peer => ({
        name: `kconmon-${index}`,
        nodeName: `synthetic-node-${index}`,
        ip: `10.1.${index >> 8}.${index & 255}`,
        zone: `zone-${'abc'[index % 3]}`,
      }),
    ),
    udpRttMicros: [210, 230, 250, 190, 220],
    dnsTargets: undefined,
  });
  return registry;
}

async function measure(render: (yieldToLoop: () => Promise<void>) => Promise<string>): Promise<Cost> {
  let longest = 0;
  let sliceStart = performance.now();
  const yieldToLoop = () =>
    new Promise<void>((resolve) => {
      longest = Math.max(longest, performance.now() - sliceStart);
      setImmediate(() => {
        sliceStart = performance.now();
        resolve();
      });
    });
  (globalThis as { gc?: () => void }).gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const start = performance.now();
  sliceStart = start;
  const text = await render(yieldToLoop);
  const end = performance.now();
  longest = Math.max(longest, end - sliceStart);
  return { longestBlockMs: longest, totalMs: end - start, bytes: Buffer.byteLength(text), allocatedMiB: (process.memoryUsage().heapUsed - heap0) / 2 ** 20 };
}

async function median(runs: number, once: () => Promise<Cost>): Promise<Cost> {
  for (let index = 0; index < 2; index++) await once();
  const costs: Cost[] = [];
  for (let index = 0; index < runs; index++) costs.push(await once());
  const mid = (pick: (cost: Cost) => number) => costs.map(pick).sort((a, b) => a - b)[Math.floor(runs / 2)]!;
  return { longestBlockMs: mid((c) => c.longestBlockMs), totalMs: mid((c) => c.totalMs), bytes: mid((c) => c.bytes), allocatedMiB: mid((c) => c.allocatedMiB) };
}

const peerCounts = (process.argv[2] ?? '1000,3000').split(',').map(Number);
console.log('| N | renderer | longest block of the loop (ms) | total (ms) | text (KiB) | heap allocated (MiB) |');
console.log('| ---: | --- | ---: | ---: | ---: | ---: |');
for (const peers of peerCounts) {
  const registry = agentRegistry(peers);
  let currentYield: () => Promise<void> = () => Promise.resolve();
  const sliced = createExpositionRenderer({ registry, yieldToLoop: () => currentYield() });
  const rows: Array<[string, Cost]> = [
    // registry.metrics() never yields to the loop: the whole render is one block.
    ['prom-client registry.metrics()', await median(5, () => measure(() => registry.metrics()))],
    ['sliced, first render (nothing cached)', await median(5, () => measure((yieldToLoop) => createExpositionRenderer({ registry, yieldToLoop }).render()))],
    [
      'sliced, label text cached (one renderer for all scrapes, as the agent has)',
      await median(5, () =>
        measure((yieldToLoop) => {
          currentYield = yieldToLoop;
          return sliced.render();
        }),
      ),
    ],
  ];
  for (const [name, cost] of rows) {
    console.log(
      `| ${peers} | ${name} | ${cost.longestBlockMs.toFixed(1)} | ${cost.totalMs.toFixed(1)} | ${(cost.bytes / 1024).toFixed(0)} | ${cost.allocatedMiB.toFixed(1)} |`,
    );
  }
}
