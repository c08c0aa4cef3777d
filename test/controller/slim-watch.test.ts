// SlimWatch (src/controller/slim-watch.ts) overwrites a private field of @kubernetes/client-node's Watch,
// `requestTimeoutMs`, its inactivity timeout. This pins that field: a library version that renames or removes it fails
// here, naming the field and the version, instead of silently falling back to the 30 s default in production.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { KubeConfig, Watch } from '@kubernetes/client-node';
import { INACTIVITY_TIMEOUT_MS, SlimWatch } from '../../src/controller/slim-watch.ts';
import { ROOT } from '../helpers/kconmon-cli.ts';

const FIELD = 'requestTimeoutMs';
const LIBRARY = `@kubernetes/client-node ${(JSON.parse(readFileSync(join(ROOT, 'node_modules/@kubernetes/client-node/package.json'), 'utf8')) as { version: string }).version}`;
const PINNED = `${LIBRARY}: Watch's private field "${FIELD}" (the watch inactivity timeout that src/controller/slim-watch.ts overwrites)`;

function kubeConfig(server: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'local', server, skipTLSVerify: true }],
    users: [{ name: 'anonymous' }],
    contexts: [{ name: 'local', cluster: 'local', user: 'anonymous' }],
    currentContext: 'local',
  });
  return config;
}

describe('SlimWatch and the client library field it overwrites', () => {
  it(`client-node's Watch still has the field, a number (${FIELD})`, () => {
    const watch = new Watch(kubeConfig('http://127.0.0.1:1')) as unknown as Record<string, unknown>;
    assert.ok(Object.hasOwn(watch, FIELD), `${PINNED} is gone: has it been renamed? Fields now: ${Object.keys(watch).join(', ')}`);
    assert.equal(typeof watch[FIELD], 'number', `${PINNED} is no longer a number of milliseconds`);
    const slim = new SlimWatch(kubeConfig('http://127.0.0.1:1'), () => {}) as unknown as Record<string, unknown>;
    assert.equal(slim[FIELD], INACTIVITY_TIMEOUT_MS);
  });

  it('the library uses the field as the inactivity timeout of an open watch', async () => {
    const held: ServerResponse[] = [];
    let watch: SlimWatch<unknown> | undefined;
    // An apiserver that accepts the watch and then says nothing. The field is lowered only once the request is here:
    // the library re-reads it when the response starts, so what ends the watch is its inactivity timeout.
    const server = createServer((_request, response) => {
      (watch as unknown as Record<string, number>)[FIELD] = 100;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.flushHeaders();
      held.push(response);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      watch = new SlimWatch(kubeConfig(`http://127.0.0.1:${port}`), () => {});
      const opened = watch;
      const outcome = await new Promise<unknown>((resolve) => {
        // SlimWatch's own timeout (90 s) would end the watch only long after this guard: the field was not read.
        const guard = setTimeout(() => resolve('not ended by the field'), 20_000);
        void opened.watch(
          '/api/v1/pods',
          {},
          () => {},
          (error: unknown) => {
            clearTimeout(guard);
            resolve(error);
          },
        );
      });
      assert.equal(held.length, 1, 'the watch reached the server once');
      assert.ok(outcome instanceof Error && outcome.name === 'TimeoutError', `${PINNED} no longer ends a silent watch: got ${String(outcome)}`);
    } finally {
      for (const response of held) response.destroy();
      server.close();
    }
  });
});
