// harness/shared-kube.ts: the address the global setup passes to the test processes, and one line naming what is
// wrong with a bad one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeSharedKubeAddress, SHARED_KUBE_ENV, sharedKubeAddress } from '../../harness/shared-kube.ts';

test('an address survives encoding into the environment; none set means none', () => {
  const address = { server: 'https://127.0.0.1:6443', adminToken: 'secret', caPem: '-----BEGIN CERTIFICATE-----\n' };
  assert.deepEqual(sharedKubeAddress({ [SHARED_KUBE_ENV]: encodeSharedKubeAddress(address) }), address);
  assert.equal(sharedKubeAddress({}), undefined);
});

test('a bad address is refused with one line naming the variable', () => {
  assert.throws(() => sharedKubeAddress({ [SHARED_KUBE_ENV]: 'https://127.0.0.1:6443' }), { message: `${SHARED_KUBE_ENV} is not JSON` });
  assert.throws(() => sharedKubeAddress({ [SHARED_KUBE_ENV]: '{"server":"https://x"}' }), {
    message: `${SHARED_KUBE_ENV} must be JSON with the strings server, adminToken and caPem`,
  });
  assert.throws(() => sharedKubeAddress({ [SHARED_KUBE_ENV]: 'null' }), { message: /must be JSON with the strings/ });
});
