// The sliced /metrics renderer (src/metrics/exposition-renderer.ts): its text is byte for byte prom-client's
// registry.metrics() (labels, default labels, histograms, escapes, NaN/±Inf, removed series), and a render of a
// 3,000-peer registry lets the event loop read a real UDP datagram that was waiting when it started, where
// registry.metrics() holds the loop until it is done (the echoes an agent lost while a scrape rendered).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { createExpositionRenderer } from '../../src/metrics/exposition-renderer.ts';

function peerRegistry(peers: number): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ source: 'node-a', source_zone: 'zone-a' });
  const pair = ['destination', 'destination_zone'] as const;
  const gauges = ['udp_duration_milliseconds', 'udp_loss', 'tcp_connect_milliseconds'].map(
    (name) => new Gauge({ name, help: `help of ${name}`, labelNames: pair, registers: [registry] }),
  );
  const results = new Counter({ name: 'udp_results_total', help: 'UDP Test Results', labelNames: [...pair, 'result'], registers: [registry] });
  const rtt = new Histogram({ name: 'udp_rtt_seconds', help: 'RTT', labelNames: ['destination_zone'], buckets: [0.0001, 0.001, 0.01], registers: [registry] });
  for (let index = 0; index < peers; index++) {
    const labels = { destination: `node-${index}`, destination_zone: `zone-${index % 3}` };
    for (const gauge of gauges) gauge.set(labels, index / 7);
    results.inc({ ...labels, result: 'pass' }, index);
    results.inc({ ...labels, result: 'fail' }, 0);
    rtt.observe({ destination_zone: labels.destination_zone }, (index % 50) / 10_000);
  }
  return registry;
}

test('the text is exactly registry.metrics()', async () => {
  const registry = peerRegistry(20);
  const odd = new Gauge({ name: 'odd_values', help: 'back\\slash and\nnew line', labelNames: ['text'], registers: [registry] });
  odd.set({ text: 'quote " back\\slash \n new line' }, Number.NaN);
  odd.set({ text: 'inf' }, Number.POSITIVE_INFINITY);
  odd.set({ text: 'minus inf' }, Number.NEGATIVE_INFINITY);
  new Gauge({ name: 'no_series', help: 'nothing set', labelNames: ['x'], registers: [registry] });
  new Gauge({
    name: 'collected',
    help: 'set by collect',
    registers: [registry],
    collect() {
      this.set(42);
    },
  });
  const renderer = createExpositionRenderer({ registry, sliceMs: 0 });
  assert.equal(await renderer.render(), await registry.metrics());
  // Cached label text never outlives its series, and changed default labels are picked up.
  odd.remove({ text: 'inf' });
  registry.setDefaultLabels({ source: 'node-b' });
  const [rendered, expected] = [await renderer.render(), await registry.metrics()];
  assert.equal(rendered, expected);
  assert.ok(!rendered.includes('text="inf"'));
  assert.ok(rendered.includes('source="node-b"'));
});

test('a render lets the event loop read a datagram that was waiting when it started', async () => {
  const registry = peerRegistry(3000);
  const receiver = dgram.createSocket('udp4');
  const sender = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve));
  try {
    const order: string[] = [];
    const rendered = async (name: string, render: () => Promise<string>) => {
      const received = new Promise<void>((resolve) =>
        receiver.once('message', () => {
          order.push(`${name}: datagram read`);
          resolve();
        }),
      );
      // Loopback delivery is synchronous: once send() has called back, the datagram waits in the receiver's buffer.
      await new Promise<void>((resolve, reject) => sender.send('x', receiver.address().port, '127.0.0.1', (error) => (error ? reject(error) : resolve())));
      await render();
      order.push(`${name}: render done`);
      await received;
    };
    await rendered('prom-client', () => registry.metrics());
    await rendered('sliced', () => createExpositionRenderer({ registry }).render());
    // prom-client's render is one stretch of the loop: the datagram is read only after it. Ours yields within it.
    assert.deepEqual(order, ['prom-client: render done', 'prom-client: datagram read', 'sliced: datagram read', 'sliced: render done']);
  } finally {
    receiver.close();
    sender.close();
  }
});
