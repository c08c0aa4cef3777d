// Tests the two guards every kconmon HTTP server uses, on a real server and real sockets: limitPipelining
// (src/util/pipelining-limit.ts) leaves sequential keep-alive clients (Prometheus) alone, answers a client that
// pipelines within the bound, and closes a connection that leaves more requests unanswered; createMetricsEndpoint
// (src/util/metrics-endpoint.ts) renders once for all the scrapes that arrive while a rendering runs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { Gauge, Registry } from 'prom-client';
import { listen, type ListeningServer } from '../../src/util/http-listen.ts';
import { limitPipelining, MAX_UNANSWERED_REQUESTS } from '../../src/util/pipelining-limit.ts';
import { createMetricsEndpoint } from '../../src/util/metrics-endpoint.ts';
import { waitUntil } from '../../harness/wait.ts';
import { parseExposition } from '../../harness/exposition.ts';

const ADDRESS = '127.0.0.1';

async function startServer(registry: Registry, handler: http.RequestListener): Promise<ListeningServer> {
  const server = http.createServer(limitPipelining(handler, { registry, closedMetricName: 'test_http_connections_closed_total' }));
  return listen(server, ADDRESS, 0);
}

async function counter(registry: Registry, name: string): Promise<number> {
  return parseExposition(await registry.metrics()).find((sample) => sample.name === name)?.value ?? Number.NaN;
}

/** Writes `count` pipelined requests on one connection and reads what comes back until the server closes it. */
function pipeline(port: number, count: number): Promise<{ statusLines: number; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: ADDRESS, port });
    let received = '';
    let statusLines = 0;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
      statusLines = received.split('HTTP/1.1 200').length - 1;
      if (statusLines === count) socket.end();
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve({ statusLines, closedByServer: statusLines < count }));
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(count));
  });
}

describe('limitPipelining', () => {
  const ok: http.RequestListener = (_request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end('ok\n');
  };

  it('serves 20 sequential requests on one keep-alive connection (as Prometheus scrapes) without closing it', async () => {
    const registry = new Registry();
    const server = await startServer(registry, ok);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<net.Socket>();
    try {
      for (let request = 0; request < 20; request++) {
        const status = await new Promise<number>((resolve, reject) => {
          const sent = http.get({ host: ADDRESS, port: server.port, path: '/', agent }, (response) => {
            sockets.add(response.socket);
            response.resume();
            response.on('end', () => resolve(response.statusCode ?? 0));
          });
          sent.on('error', reject);
        });
        assert.equal(status, 200);
      }
      assert.equal(sockets.size, 1, 'one connection for all requests');
      assert.equal(await counter(registry, 'test_http_connections_closed_total'), 0);
    } finally {
      agent.destroy();
      await server.close();
    }
  });

  it(`answers ${MAX_UNANSWERED_REQUESTS} pipelined requests; one more closes the connection`, async () => {
    const registry = new Registry();
    const server = await startServer(registry, ok);
    try {
      assert.deepEqual(await pipeline(server.port, MAX_UNANSWERED_REQUESTS), { statusLines: MAX_UNANSWERED_REQUESTS, closedByServer: false });
      assert.equal(await counter(registry, 'test_http_connections_closed_total'), 0);
      // Answers already written before the extra request was parsed may arrive; the extra one never does.
      const beyond = await pipeline(server.port, MAX_UNANSWERED_REQUESTS + 1);
      assert.equal(beyond.closedByServer, true, `closed after ${beyond.statusLines} answers`);
      assert.equal(await counter(registry, 'test_http_connections_closed_total'), 1);
    } finally {
      await server.close();
    }
  });
});

describe('createMetricsEndpoint', () => {
  it('scrapes that arrive while a rendering runs share it: 10 concurrent scrapes, one rendering, one body', async () => {
    const registry = new Registry();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let collections = 0;
    new Gauge({
      name: 'test_slow_gauge',
      help: 'a gauge whose collection waits for the test',
      registers: [registry],
      async collect() {
        collections++;
        await gate;
        this.set(collections);
      },
    });
    const endpoint = createMetricsEndpoint({ registry, rendersMetricName: 'test_metrics_renders_total' });
    let received = 0;
    const server = await startServer(registry, (request, response) => {
      received++;
      void endpoint.serve(request, response);
    });
    try {
      // Ten scrapes on ten connections, all received while the first rendering waits on the gate.
      const bodies = Array.from({ length: 10 }, () => fetch(`http://${ADDRESS}:${server.port}/metrics`).then((response) => response.text()));
      await waitUntil('all ten scrapes to arrive', 10_000, () => received === 10);
      release();
      const texts = await Promise.all(bodies);
      assert.equal(new Set(texts).size, 1, 'every scrape got the same rendering');
      assert.equal(collections, 1);
      assert.equal(parseExposition(texts[0]!).find((sample) => sample.name === 'test_metrics_renders_total')?.value, 1);
      // The next scrape renders afresh.
      await fetch(`http://${ADDRESS}:${server.port}/metrics`).then((response) => response.text());
      assert.equal(collections, 2);
    } finally {
      await server.close();
    }
  });
});
