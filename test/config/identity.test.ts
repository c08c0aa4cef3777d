// Tests identityFromEnv (src/config/identity.ts): the agent's node/pod/IP/zone read from NODE_NAME, POD_NAME, POD_IP
// and ZONE, with defaults (hostname, node name, kernel-chosen address, `unknown`) and a ConfigError for a bad POD_IP.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { identityFromEnv } from '../../src/config/identity.ts';
import { ConfigError } from '../../src/validation/format-issues.ts';

describe('identityFromEnv', () => {
  it('reads every variable as the downward API sets it', () => {
    assert.deepEqual(identityFromEnv({ NODE_NAME: 'node-a', POD_NAME: 'kconmon-x7k2p', POD_IP: '10.244.1.7', ZONE: 'europe-west2-a' }), {
      nodeName: 'node-a',
      podName: 'kconmon-x7k2p',
      ip: '10.244.1.7',
      zone: 'europe-west2-a',
    });
  });

  it('accepts an IPv6 POD_IP', () => {
    assert.equal(identityFromEnv({ NODE_NAME: 'n', POD_IP: 'fd00:10:244::7' }).ip, 'fd00:10:244::7');
  });

  it('defaults: node name = hostname, pod name = node name, ip undefined, zone unknown', () => {
    assert.deepEqual(identityFromEnv({}), { nodeName: hostname(), podName: hostname(), ip: undefined, zone: 'unknown' });
  });

  it('pod name defaults to NODE_NAME when only that is set', () => {
    assert.deepEqual(identityFromEnv({ NODE_NAME: 'node-b' }), { nodeName: 'node-b', podName: 'node-b', ip: undefined, zone: 'unknown' });
  });

  it('empty or blank variables count as unset', () => {
    assert.deepEqual(identityFromEnv({ NODE_NAME: '', POD_NAME: '   ', POD_IP: '', ZONE: ' \t' }), {
      nodeName: hostname(),
      podName: hostname(),
      ip: undefined,
      zone: 'unknown',
    });
  });

  it('surrounding whitespace is trimmed', () => {
    assert.deepEqual(identityFromEnv({ NODE_NAME: ' node-c\n', POD_NAME: ' pod-c ', POD_IP: ' 10.0.0.3 ', ZONE: ' zone-1 ' }), {
      nodeName: 'node-c',
      podName: 'pod-c',
      ip: '10.0.0.3',
      zone: 'zone-1',
    });
  });

  for (const bad of ['node-a', '10.0.0.300', '10.0.0.1:8080', '[::1]']) {
    it(`a POD_IP of "${bad}" is a ConfigError naming the variable and the value`, () => {
      assert.throws(
        () => identityFromEnv({ NODE_NAME: 'n', POD_IP: bad }),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          assert.deepEqual(error.problems, [`env POD_IP: must be an IPv4 or IPv6 address (got "${bad}")`]);
          assert.equal(error.message, `environment: invalid configuration\n  env POD_IP: must be an IPv4 or IPv6 address (got "${bad}")`);
          return true;
        },
      );
    });
  }

  it('does not read process.env: only the object it is given', () => {
    const saved = process.env.NODE_NAME;
    process.env.NODE_NAME = 'from-process-env';
    try {
      assert.equal(identityFromEnv({ NODE_NAME: 'given' }).nodeName, 'given');
      assert.equal(identityFromEnv({}).nodeName, hostname());
    } finally {
      if (saved === undefined) delete process.env.NODE_NAME;
      else process.env.NODE_NAME = saved;
    }
  });
});
