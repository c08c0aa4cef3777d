// Probes from inside a network namespace that has no route (nothing can leave it): the TCP test fails as
// `unreachable` at once and UDP packets are lost with a send error, never mistaken for answers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createNetns, netnsUnavailable, type Netns } from '../../harness/netns.ts';
import { skipUnlessAvailable } from '../harness/require.ts';

const unavailable = netnsUnavailable();
let netns: Netns | undefined;
const src = (path: string) => fileURLToPath(new URL(`../../src/${path}`, import.meta.url));

before(() => {
  if (!unavailable) netns = createNetns('kcunr');
});
after(() => netns?.remove());

function runInNamespace(script: string): unknown {
  const output = netns!.exec(process.execPath, ['--input-type=module', '--eval', script]);
  return JSON.parse(output);
}

test('TCP to an address with no route fails as unreachable, immediately', (t) => {
  if (!skipUnlessAvailable(t, unavailable)) return;
  const result = runInNamespace(`
    import { probeTcp } from ${JSON.stringify(src('probes/tcp.ts'))};
    const started = performance.now();
    const result = await probeTcp({ ip: '198.18.0.1', port: 8080 }, { timeoutMs: 1000 });
    console.log(JSON.stringify({ ...result, elapsed: performance.now() - started }));
  `) as { passed: boolean; reason: string; detail: string; elapsed: number };
  assert.equal(result.passed, false);
  assert.equal(result.reason, 'unreachable');
  assert.equal(result.detail, 'ENETUNREACH');
  assert.ok(result.elapsed < 900, 'failed before the timeout');
});

test('UDP to an address with no route: every packet lost, each send error reported', (t) => {
  if (!skipUnlessAvailable(t, unavailable)) return;
  const result = runInNamespace(`
    import { createUdpPinger } from ${JSON.stringify(src('probes/udp-pinger.ts'))};
    import { probeUdp } from ${JSON.stringify(src('probes/udp.ts'))};
    const errors = [];
    const pinger = await createUdpPinger({ hooks: { onSendError: (address, code) => errors.push(code) } });
    const result = await probeUdp(pinger, { ip: '198.18.0.1', port: 8080 }, { packets: 3, packetSize: 4, packetSpacingMs: 5, timeoutMs: 100 });
    await pinger.close();
    console.log(JSON.stringify({ ...result, errors }));
  `) as { received: number; lossPercent: number; errors: string[] };
  assert.equal(result.received, 0);
  assert.equal(result.lossPercent, 100);
  assert.deepEqual(result.errors, ['ENETUNREACH', 'ENETUNREACH', 'ENETUNREACH']);
});
