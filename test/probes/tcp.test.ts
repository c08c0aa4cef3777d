// TCP probe against real servers on loopback: pass with sub-millisecond timings, one fresh connection per test with
// `Connection: close`, and each failure reason (refused, timeout, reset, bad status, malformed response).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { getEventListeners } from 'node:events';
import net from 'node:net';
import { probeTcp } from '../../src/probes/tcp.ts';
import { createAbortCallbacks } from '../../src/util/abort-callbacks.ts';

async function listen(server: net.Server, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((resolve) => server.listen({ host, port: 0 }, () => resolve()));
  return (server.address() as net.AddressInfo).port;
}

function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    if (server instanceof http.Server) server.closeAllConnections();
  });
}

test('passes against /readiness: connect < total, sub-millisecond precision, a new connection per test', async () => {
  const requests: { path: string | undefined; connection: string | undefined }[] = [];
  let connections = 0;
  const server = http.createServer((request, response) => {
    requests.push({ path: request.url, connection: request.headers.connection });
    response.writeHead(200, { connection: 'close' });
    response.end('ok');
  });
  server.on('connection', () => connections++);
  const port = await listen(server);
  try {
    for (let run = 0; run < 3; run++) {
      const result = await probeTcp({ ip: '127.0.0.1', port }, { timeoutMs: 1000 });
      assert.equal(result.passed, true, result.detail);
      assert.equal(result.statusCode, 200);
      assert.equal(result.reason, undefined);
      assert.ok(result.connectMs > 0 && result.connectMs < result.totalMs, `${result.connectMs} < ${result.totalMs}`);
      assert.ok(!Number.isInteger(result.connectMs), 'connect time has sub-millisecond resolution');
    }
    assert.equal(connections, 3, 'one new TCP connection per test');
    assert.deepEqual(
      requests,
      Array.from({ length: 3 }, () => ({ path: '/readiness', connection: 'close' })),
    );
  } finally {
    await close(server);
  }
});

test('IPv6: dials ::1 explicitly', async () => {
  const server = http.createServer((_request, response) => response.end('ok'));
  const port = await listen(server, '::1');
  try {
    const result = await probeTcp({ ip: '::1', port }, { timeoutMs: 1000 });
    assert.equal(result.passed, true, result.detail);
  } finally {
    await close(server);
  }
});

test('refused: nothing listens on the port', async () => {
  const server = net.createServer();
  const port = await listen(server);
  await close(server);
  const result = await probeTcp({ ip: '127.0.0.1', port }, { timeoutMs: 1000 });
  assert.equal(result.passed, false);
  assert.equal(result.reason, 'refused');
  assert.ok(Number.isNaN(result.connectMs));
  assert.ok(Number.isNaN(result.totalMs));
});

test('timeout: the server accepts but never answers; the test ends at its deadline, without retries', async () => {
  let connections = 0;
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    connections++;
    sockets.push(socket);
  });
  const port = await listen(server);
  try {
    const started = performance.now();
    const result = await probeTcp({ ip: '127.0.0.1', port }, { timeoutMs: 300 });
    const elapsed = performance.now() - started;
    assert.equal(result.reason, 'timeout');
    assert.ok(result.connectMs >= 0, 'it did connect');
    assert.ok(elapsed >= 290 && elapsed < 1000, `ended at the deadline (${elapsed} ms)`);
    assert.equal(connections, 1, 'no retry');
  } finally {
    for (const socket of sockets) socket.destroy();
    await close(server);
  }
});

test('reset: the server resets the connection', async () => {
  const server = net.createServer((socket) => socket.once('data', () => socket.resetAndDestroy()));
  const port = await listen(server);
  try {
    const result = await probeTcp({ ip: '127.0.0.1', port }, { timeoutMs: 1000 });
    assert.equal(result.reason, 'reset');
    assert.equal(result.passed, false);
  } finally {
    await close(server);
  }
});

test('bad status: a 503 fails the test and names the status', async () => {
  const server = http.createServer((_request, response) => {
    response.writeHead(503, { connection: 'close' });
    response.end('draining');
  });
  const port = await listen(server);
  try {
    const result = await probeTcp({ ip: '127.0.0.1', port }, { timeoutMs: 1000 });
    assert.equal(result.reason, 'bad_status');
    assert.equal(result.statusCode, 503);
    assert.equal(result.detail, 'HTTP 503');
  } finally {
    await close(server);
  }
});

test('a response that is not HTTP fails as bad_status', async () => {
  const server = net.createServer((socket) => socket.once('data', () => socket.end('SSH-2.0-OpenSSH\r\n')));
  const port = await listen(server);
  try {
    const result = await probeTcp({ ip: '127.0.0.1', port }, { timeoutMs: 1000 });
    assert.equal(result.reason, 'bad_status');
    assert.match(result.detail ?? '', /malformed status line/);
  } finally {
    await close(server);
  }
});

test('a connection closed before any response is a reset', async () => {
  const server = net.createServer((socket) => socket.once('data', () => socket.end()));
  const port = await listen(server);
  try {
    const result = await probeTcp({ ip: '127.0.0.1', port }, { timeoutMs: 1000 });
    assert.equal(result.reason, 'reset');
  } finally {
    await close(server);
  }
});

for (const [how, abortCallbacks] of [
  ['a listener of its own', undefined],
  ['callbacks shared by the kind', createAbortCallbacks()],
] as const) {
  test(`aborting a test in flight ends it, marked aborted, not failed (${how})`, async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((socket) => sockets.push(socket));
    const port = await listen(server);
    try {
      const controller = new AbortController();
      const running = probeTcp({ ip: '127.0.0.1', port }, { timeoutMs: 60_000, abortCallbacks }, controller.signal);
      // Aborted once the server holds the connection (it never answers: only the abort can end the test in time).
      while (sockets.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      controller.abort();
      const result = await running;
      assert.equal(result.aborted, true);
      assert.equal(result.passed, false);
      assert.equal(result.reason, undefined);
    } finally {
      for (const socket of sockets) socket.destroy();
      await close(server);
    }
  });
}

test('tests that share abort callbacks leave one abort listener on their signal, however many ran', async () => {
  const server = net.createServer((socket) => {
    socket.resume(); // read the request, so that the client's close is seen and the server can close
    socket.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  });
  const port = await listen(server);
  try {
    const controller = new AbortController();
    const abortCallbacks = createAbortCallbacks();
    for (let run = 0; run < 20; run++) {
      const result = await probeTcp({ ip: '127.0.0.1', port }, { timeoutMs: 5000, abortCallbacks }, controller.signal);
      assert.equal(result.passed, true, result.detail);
    }
    assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
  } finally {
    await close(server);
  }
});
