// The controller's configuration: defaults (Kubernetes discovery with the original's labels and zone label), each
// validation rule with its exact message, and `check-config --controller`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseControllerConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/validation/format-issues.ts';

test('defaults: Kubernetes discovery of app=kconmon,component=agent pods, topology zone label then the deprecated one', () => {
  const config = parseControllerConfig({}, 'test');
  assert.equal(config.port, 8080);
  assert.equal(config.heartbeatInterval, 5000);
  assert.ok('kubernetes' in config.source);
  assert.deepEqual(config.source.kubernetes, {
    agentSelector: 'app=kconmon,component=agent',
    zoneLabels: ['topology.kubernetes.io/zone', 'failure-domain.beta.kubernetes.io/zone'],
    restartBackoff: { min: 500, max: 30_000 },
  });
  const file = parseControllerConfig({ source: { peersFile: 'peers.yaml' } }, 'test');
  assert.deepEqual(file.source, { peersFile: 'peers.yaml' });
});

const cases: [string, unknown, string[]][] = [
  ['unknown top-level key', { interval: 5 }, ['interval: unknown key']],
  ['unknown kubernetes key', { source: { kubernetes: { labelSelector: 'x' } } }, ['source.kubernetes.labelSelector: unknown key']],
  ['bad namespace', { source: { kubernetes: { namespace: 'Kconmon' } } }, ['source.kubernetes.namespace: must be a valid namespace name']],
  [
    'set-based selector',
    { source: { kubernetes: { agentSelector: 'app in (kconmon)' } } },
    ['source.kubernetes.agentSelector: must be an equality-based label selector like app=kconmon,component=agent'],
  ],
  ['empty zone labels', { source: { kubernetes: { zoneLabels: [] } } }, ['source.kubernetes.zoneLabels: must list at least one label']],
  [
    'backoff max < min',
    { source: { kubernetes: { restartBackoff: { min: 1000, max: 500 } } } },
    ['source.kubernetes.restartBackoff.max: must be ≥ restartBackoff.min (1000)'],
  ],
  ['both sources', { source: { kubernetes: {}, peersFile: 'p.yaml' } }, ['source: set only one of source.kubernetes or source.peersFile']],
  ['heartbeat too fast', { heartbeatInterval: 10 }, ['heartbeatInterval: must be ≥ 100']],
  ['source not an object', { source: 'kubernetes' }, ['source: must be an object']],
  ['empty token file', { auth: { tokenFile: '' } }, ['auth.tokenFile: must not be empty']],
  ['unknown auth key', { auth: { token: 'x' } }, ['auth.token: unknown key']],
  ['TLS without a key', { tls: { certFile: 'tls.crt' } }, ['tls.keyFile: must be a file path']],
  ['no stream allowed', { maxAgentStreams: 0 }, ['maxAgentStreams: must be ≥ 1']],
  [
    'node events from a peers file',
    { events: { enabled: true }, source: { peersFile: 'p.yaml' } },
    ['events.enabled: needs source.kubernetes (Events are written on Nodes through the API)'],
  ],
  ['node events written too often', { events: { enabled: true, minInterval: 10 } }, ['events.minInterval: must be ≥ 1000']],
];

test('defaults: no token, no TLS, at most 10,000 agent streams', () => {
  const config = parseControllerConfig({}, 'test');
  assert.deepEqual(config.auth, {});
  assert.equal(config.tls, undefined);
  assert.equal(config.maxAgentStreams, 10_000);
});

for (const [name, document, expected] of cases) {
  test(`rejects ${name}`, () => {
    assert.throws(
      () => parseControllerConfig(document, 'test'),
      (error: unknown) => error instanceof ConfigError && JSON.stringify([...error.problems].sort()) === JSON.stringify([...expected].sort()),
    );
    try {
      parseControllerConfig(document, 'test');
    } catch (error) {
      assert.deepEqual([...(error as ConfigError).problems].sort(), [...expected].sort());
    }
  });
}
