// DNS probe against real DNS servers the test starts on loopback (unbound, dnsmasq): pass for A and AAAA, and each
// failure reason — nxdomain, servfail, refused, timeout (a socket that never answers) — and a query aborted in flight.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { createTargetResolver, probeDns } from '../../src/probes/dns.ts';
import { startSilentResolver, startTestResolvers, testResolversUnavailable, TEST_ZONE, type TestResolvers } from '../helpers/test-resolvers.ts';
import { skipUnlessAvailable } from '../harness/require.ts';

let servers: TestResolvers | undefined;
const unavailable = testResolversUnavailable();

before(async () => {
  if (!unavailable) servers = await startTestResolvers();
});
after(async () => servers?.stop());

function target(host: string, type: 'A' | 'AAAA' = 'A', resolvers = [servers!.server]) {
  return { host, label: host, type, resolvers };
}

test('A record: passes with the answer and a sub-second duration', async (t) => {
  if (!skipUnlessAvailable(t, unavailable)) return;
  const dnsTarget = target(TEST_ZONE.pass);
  const result = await probeDns(createTargetResolver(dnsTarget, 1000), dnsTarget, 1000);
  assert.equal(result.passed, true, result.detail);
  assert.deepEqual(result.answers, [TEST_ZONE.passV4]);
  assert.ok(result.durationMs > 0 && result.durationMs < 1000);
});

test('AAAA record: passes with the IPv6 answer', async (t) => {
  if (!skipUnlessAvailable(t, unavailable)) return;
  const dnsTarget = target(TEST_ZONE.pass, 'AAAA');
  const result = await probeDns(createTargetResolver(dnsTarget, 1000), dnsTarget, 1000);
  assert.equal(result.passed, true, result.detail);
  assert.deepEqual(result.answers, [TEST_ZONE.passV6]);
});

for (const [name, host, reason] of [
  ['nxdomain', TEST_ZONE.nxdomain, 'nxdomain'],
  ['servfail', TEST_ZONE.servfail, 'servfail'],
  ['refused', TEST_ZONE.refused, 'refused'],
] as const) {
  test(`${name}: fails with reason ${reason}`, async (t) => {
    if (!skipUnlessAvailable(t, unavailable)) return;
    const dnsTarget = target(host);
    const result = await probeDns(createTargetResolver(dnsTarget, 2000), dnsTarget, 2000);
    assert.equal(result.passed, false);
    assert.equal(result.reason, reason, result.detail);
    assert.deepEqual(result.answers, []);
  });
}

test('timeout: a resolver that never answers fails with reason timeout at the configured timeout', async () => {
  const silent = await startSilentResolver();
  try {
    const dnsTarget = { host: TEST_ZONE.pass, label: 'silent', type: 'A' as const, resolvers: [silent.server] };
    const result = await probeDns(createTargetResolver(dnsTarget, 300), dnsTarget, 300);
    assert.equal(result.passed, false);
    assert.equal(result.aborted, false);
    assert.equal(result.reason, 'timeout');
    assert.ok(result.durationMs >= 295 && result.durationMs < 550, `${result.durationMs} ms`);
  } finally {
    await silent.close();
  }
});

test("timeout above c-ares's default 5 s cap per try: the configured timeout is honoured", async () => {
  const silent = await startSilentResolver();
  try {
    const dnsTarget = { host: TEST_ZONE.pass, label: 'silent', type: 'A' as const, resolvers: [silent.server] };
    const result = await probeDns(createTargetResolver(dnsTarget, 5600), dnsTarget, 5600);
    assert.equal(result.reason, 'timeout');
    assert.ok(result.durationMs >= 5595, `gave up after ${result.durationMs} ms, before the configured 5600 ms`);
  } finally {
    await silent.close();
  }
});

test('abort: a query in flight to a resolver that never answers settles as aborted, with no failure reason', async () => {
  const silent = await startSilentResolver();
  try {
    const dnsTarget = { host: TEST_ZONE.pass, label: 'silent', type: 'A' as const, resolvers: [silent.server] };
    const controller = new AbortController();
    // The deadline is beyond the test's own timeout: only the abort can settle the probe.
    const probe = probeDns(createTargetResolver(dnsTarget, 60_000), dnsTarget, 60_000, controller.signal);
    await silent.firstQuery();
    controller.abort();
    const result = await probe;
    assert.equal(result.aborted, true);
    assert.equal(result.passed, false);
    assert.equal(result.reason, undefined);
  } finally {
    await silent.close();
  }
});

test("unreachable: nothing listens on the resolver's port", async () => {
  const closed = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => closed.bind({ address: '127.0.0.1', port: 0 }, () => resolve()));
  const port = closed.address().port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const dnsTarget = { host: TEST_ZONE.pass, label: 'closed', type: 'A' as const, resolvers: [`127.0.0.1:${port}`] };
  const result = await probeDns(createTargetResolver(dnsTarget, 1000), dnsTarget, 1000);
  assert.equal(result.passed, false);
  assert.equal(result.reason, 'unreachable', result.detail);
});
