// UDP probe against real sockets on loopback: exact loss, late replies never credited to the next packet, garbage,
// spoofed, resized and duplicate replies ignored, microsecond RTTs, IPv6, cancellation, a probe socket that cannot be opened.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { getEventListeners } from 'node:events';
import { createUdpPinger, type IgnoredReason } from '../../src/probes/udp-pinger.ts';
import { probeUdp } from '../../src/probes/udp.ts';
import { createAbortCallbacks } from '../../src/util/abort-callbacks.ts';
import { startScriptedEcho } from '../helpers/scripted-echo.ts';

const fast = { packetSize: 4, packetSpacingMs: 2, timeoutMs: 200 };

test('loss equals the share of packets the echo server drops (every 5th dropped → exactly 20 %)', async () => {
  const echo = await startScriptedEcho((index) => (index % 5 === 4 ? { kind: 'drop' } : { kind: 'echo' }));
  const pinger = await createUdpPinger({ bindAddress: '127.0.0.1' });
  try {
    const result = await probeUdp(pinger, { ip: echo.address, port: echo.port }, { ...fast, packets: 100 });
    assert.equal(result.sent, 100);
    assert.equal(result.received, 80);
    assert.equal(result.lost, 20);
    assert.equal(result.lossPercent, 20);
    assert.equal(result.passed, false);
    assert.equal(echo.received.length, 100);
    // one packet = one id: 100 distinct ids on the wire
    assert.equal(new Set(echo.received.map((message) => message.readUInt32BE(0))).size, 100);
  } finally {
    await pinger.close();
    await echo.close();
  }
});

test('a reply delayed past its timeout is counted late, never credited to the next packet', async () => {
  // t=0 packet 0 (echo after 700 ms: its timeout is 600 → late); t=200 packet 1 (echo after 550 ms, at t=750);
  // t=400 packet 2 (prompt). When packet 0's late echo lands at t=700, packet 1 is outstanding: matching by id must
  // leave packet 1 at its true 550 ms, where crediting the late echo would have made it 500 ms.
  const delays = [700, 550, 0];
  const echo = await startScriptedEcho((index) => ({ kind: 'echo', delayMs: delays[index] ?? 0 }));
  const late: string[] = [];
  const pinger = await createUdpPinger({ bindAddress: '127.0.0.1', hooks: { onLate: (address) => late.push(address) } });
  try {
    const result = await probeUdp(pinger, { ip: echo.address, port: echo.port }, { packets: 3, packetSize: 4, packetSpacingMs: 200, timeoutMs: 600 });
    assert.equal(result.received, 2);
    assert.equal(result.lost, 1);
    assert.equal(result.late, 1);
    assert.deepEqual(late, ['127.0.0.1']);
    const [packet1, packet2] = result.rttMicros;
    assert.ok(packet1 !== undefined && packet1 >= 530_000, `packet 1 RTT ${packet1} µs is its own echo's (~550 ms)`);
    assert.ok(packet2 !== undefined && packet2 < 100_000, `packet 2 RTT ${packet2} µs is prompt`);
  } finally {
    await pinger.close();
    await echo.close();
  }
});

test('garbage, spoofed-sender and resized replies are ignored and the packets count as lost', async () => {
  const echo = await startScriptedEcho((index, message) => {
    if (index === 0) return { kind: 'reply', payload: Buffer.from([1, 2]) }; // too short to carry an id
    if (index === 1) return { kind: 'spoof' }; // right id, wrong source port
    if (index === 2) return { kind: 'reply', payload: Buffer.concat([message, Buffer.alloc(8)]) }; // right id, wrong size
    if (index === 3) {
      const other = Buffer.from(message);
      other.writeUInt32BE((message.readUInt32BE(0) + 1) >>> 0, 0); // an id nobody sent
      return { kind: 'reply', payload: other };
    }
    return { kind: 'echo' };
  });
  const ignored: IgnoredReason[] = [];
  const pinger = await createUdpPinger({ bindAddress: '127.0.0.1', hooks: { onIgnored: (reason) => ignored.push(reason) } });
  try {
    const result = await probeUdp(pinger, { ip: echo.address, port: echo.port }, { ...fast, packets: 5, packetSize: 16 });
    assert.equal(result.received, 1);
    assert.equal(result.lost, 4);
    assert.equal(result.lossPercent, 80);
    assert.deepEqual(ignored.sort(), ['malformed', 'malformed', 'unknown_id', 'wrong_sender']);
  } finally {
    await pinger.close();
    await echo.close();
  }
});

test('datagrams from strangers to the probe socket are ignored while a probe runs', async () => {
  const echo = await startScriptedEcho(() => ({ kind: 'echo', delayMs: 40 }));
  const ignored: IgnoredReason[] = [];
  const pinger = await createUdpPinger({ bindAddress: '127.0.0.1', hooks: { onIgnored: (reason) => ignored.push(reason) } });
  const stranger = dgram.createSocket('udp4');
  try {
    const running = probeUdp(pinger, { ip: echo.address, port: echo.port }, { ...fast, packets: 3 });
    while (echo.senders.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    const probe = echo.senders[0]!;
    const first = echo.received[0]!;
    // Before the real echo arrives: a copy of the outstanding id from another socket, and plain garbage.
    stranger.send(first, probe.port, probe.address);
    stranger.send(Buffer.from('xy'), probe.port, probe.address);
    const result = await running;
    assert.equal(result.received, 3);
    assert.equal(result.lost, 0);
    assert.deepEqual(ignored.sort(), ['malformed', 'wrong_sender']);
  } finally {
    stranger.close();
    await pinger.close();
    await echo.close();
  }
});

test('a duplicated echo is credited once and reported as a duplicate', async () => {
  const echo = await startScriptedEcho(() => ({ kind: 'echo', copies: 2 }));
  let duplicates = 0;
  const pinger = await createUdpPinger({ bindAddress: '127.0.0.1', hooks: { onDuplicate: () => duplicates++ } });
  try {
    const result = await probeUdp(pinger, { ip: echo.address, port: echo.port }, { ...fast, packets: 4 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(result.received, 4);
    assert.equal(result.passed, true);
    assert.equal(duplicates, 4);
  } finally {
    await pinger.close();
    await echo.close();
  }
});

test('RTTs are microseconds from the monotonic clock; average and spread follow from them', async () => {
  const echo = await startScriptedEcho((index) => ({ kind: 'echo', delayMs: index === 2 ? 30 : 0 }));
  const pinger = await createUdpPinger({ bindAddress: '127.0.0.1' });
  try {
    const result = await probeUdp(pinger, { ip: echo.address, port: echo.port }, { ...fast, packets: 4, packetSize: 1472 });
    assert.equal(result.received, 4);
    assert.equal(result.rttMicros.length, 4);
    for (const rtt of result.rttMicros) assert.ok(rtt > 0 && rtt < 200_000);
    assert.ok(
      result.rttMicros.some((rtt) => !Number.isInteger(rtt / 1000)),
      'sub-millisecond resolution',
    );
    const slowest = Math.max(...result.rttMicros);
    const fastest = Math.min(...result.rttMicros);
    // Node timers run on a cached millisecond loop clock and may fire ~1 ms early in real time.
    assert.ok(slowest >= 28_000, `the delayed packet shows its delay (${slowest} µs)`);
    assert.ok(Math.abs(result.spreadMs - (slowest - fastest) / 1000) < 1e-9);
    const mean = result.rttMicros.reduce((a, b) => a + b, 0) / 4 / 1000;
    assert.ok(Math.abs(result.averageMs - mean) < 1e-9);
    assert.ok(
      echo.received.every((message) => message.length === 1472),
      'packets padded to packetSize',
    );
  } finally {
    await pinger.close();
    await echo.close();
  }
});

test('IPv6: the probe dials ::1 over a udp6 socket', async () => {
  const echo = await startScriptedEcho(() => ({ kind: 'echo' }), '::1');
  const pinger = await createUdpPinger({ bindAddress: '::1' });
  try {
    const result = await probeUdp(pinger, { ip: '::1', port: echo.port }, { ...fast, packets: 3 });
    assert.equal(result.received, 3);
    assert.equal(result.passed, true);
  } finally {
    await pinger.close();
    await echo.close();
  }
});

test('total loss reports 100 % and NaN timings (no invented RTT)', async () => {
  const echo = await startScriptedEcho(() => ({ kind: 'drop' }));
  const pinger = await createUdpPinger();
  try {
    const result = await probeUdp(pinger, { ip: echo.address, port: echo.port }, { ...fast, packets: 2, timeoutMs: 50 });
    assert.equal(result.lossPercent, 100);
    assert.ok(Number.isNaN(result.averageMs));
    assert.ok(Number.isNaN(result.spreadMs));
  } finally {
    await pinger.close();
    await echo.close();
  }
});

for (const [how, abortCallbacks] of [
  ['a listener of its own', undefined],
  ['callbacks shared by the kind', createAbortCallbacks()],
] as const) {
  test(`aborting a probe ends it, marked aborted, not lost (${how})`, async () => {
    // The echo drops everything: with a 60 s timeout, only the abort can end this probe.
    let received = 0;
    const echo = await startScriptedEcho(() => {
      received++;
      return { kind: 'drop' };
    });
    const pinger = await createUdpPinger();
    try {
      const controller = new AbortController();
      const running = probeUdp(
        pinger,
        { ip: echo.address, port: echo.port },
        { packets: 5, packetSize: 4, packetSpacingMs: 50, timeoutMs: 60_000, abortCallbacks },
        controller.signal,
      );
      while (received === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      controller.abort();
      const result = await running;
      assert.equal(result.aborted, true);
      assert.equal(result.passed, false);
      assert.equal(result.measured, false, 'an aborted probe is not a result');
      assert.equal(getEventListeners(controller.signal, 'abort').length, 0, 'the listener is gone after the abort');
    } finally {
      await pinger.close();
      await echo.close();
    }
  });
}

test('a probe socket that cannot be opened fails its packets as send errors: the probe settles, nothing is thrown', async () => {
  // An address that is not on this host (benchmark range, never configured here): binding the probe socket fails.
  const errors: string[] = [];
  const pinger = await createUdpPinger({ bindAddress: '198.19.254.253', hooks: { onSendError: (_address, code) => errors.push(code) } });
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const result = await probeUdp(pinger, { ip: '127.0.0.1', port: 9 }, { ...fast, packets: 3 });
    assert.equal(result.sent, 3);
    assert.equal(result.lost, 3);
    assert.equal(result.passed, false);
    assert.deepEqual(errors, ['EADDRNOTAVAIL', 'EADDRNOTAVAIL', 'EADDRNOTAVAIL']);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    await pinger.close();
  }
});
