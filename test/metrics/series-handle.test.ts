// Series handles update prom-client's series without re-hashing labels: the exposition must be the very text the
// public API gives for the same updates, through removal, reset and re-creation, and a series shared by several
// handles (a histogram by zone pair) counts every handle's observations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { counterHandle, gaugeHandle, histogramHandle } from '../../src/metrics/series-handle.ts';

const LABELS = ['source', 'destination'] as const;

function metricsOf(registry: Registry) {
  const registers = [registry];
  return {
    counter: new Counter({ name: 'c_total', help: 'c', labelNames: LABELS, registers }),
    gauge: new Gauge({ name: 'g', help: 'g', labelNames: LABELS, registers }),
    histogram: new Histogram({ name: 'h_seconds', help: 'h', labelNames: ['source'] as const, buckets: [0.001, 0.01, 0.1], registers }),
  };
}

test('handles render exactly what the public API renders, through remove, reset and re-creation', async () => {
  const viaApi = new Registry();
  const viaHandles = new Registry();
  const api = metricsOf(viaApi);
  const handled = metricsOf(viaHandles);
  const a = { source: 'n1', destination: 'n2' };
  const b = { source: 'n1', destination: 'n3' };
  const zone = { source: 'n1' };
  const zoneOfB = { source: 'n1' }; // another peer's labels object for the same histogram series
  const handles = {
    counterA: counterHandle(handled.counter, a),
    counterB: counterHandle(handled.counter, b),
    gaugeA: gaugeHandle(handled.gauge, a),
    histA: histogramHandle(handled.histogram, zone),
    histB: histogramHandle(handled.histogram, zoneOfB),
  };
  const steps: Array<[() => void, () => void]> = [
    [() => api.counter.inc(a, 0), () => handles.counterA.inc(0)],
    [() => api.counter.inc(a, 3), () => handles.counterA.inc(3)],
    [() => api.counter.inc(b), () => handles.counterB.inc()],
    [() => api.gauge.set(a, 1.5), () => handles.gaugeA.set(1.5)],
    [() => api.gauge.set(a, Number.NaN), () => handles.gaugeA.set(Number.NaN)],
    [() => api.histogram.observe(zone, 0.0005), () => handles.histA.observe(0.0005)],
    [() => api.histogram.observe(zone, 0.05), () => handles.histB.observe(0.05)],
    [() => api.histogram.observe(zone, 7), () => handles.histA.observe(7)], // above every bucket: +Inf only
    [() => api.counter.remove(a), () => handled.counter.remove(a)],
    [() => api.counter.inc(a, 2), () => handles.counterA.inc(2)], // re-created after removal
    [() => api.gauge.reset(), () => handled.gauge.reset()],
    [() => api.gauge.set(a, 4), () => handles.gaugeA.set(4)], // re-created after reset
    [() => api.histogram.reset(), () => handled.histogram.reset()],
    [() => api.histogram.observe(zone, 0.002), () => handles.histB.observe(0.002)],
    [() => api.histogram.observe(zone, 0.002), () => handles.histA.observe(0.002)],
  ];
  for (const [index, [viaPublicApi, viaHandle]] of steps.entries()) {
    viaPublicApi();
    viaHandle();
    assert.equal(await viaHandles.metrics(), await viaApi.metrics(), `after step ${index}`);
  }
  assert.match(await viaHandles.metrics(), /h_seconds_bucket\{le="0.01",source="n1"\} 2/);
});

test('a counter handle refuses what prom-client refuses (a negative increment)', () => {
  const registry = new Registry();
  const { counter } = metricsOf(registry);
  const handle = counterHandle(counter, { source: 'n1', destination: 'n2' });
  handle.inc(1);
  assert.throws(() => handle.inc(-1), /not possible to decrease/);
});
