// e2e/network.ts: a node's MAC follows from its IPv4 address, so a node re-created with the same address (the churn
// scenario) keeps the MAC its peers' neighbour caches hold; the churn scenario itself is the end-to-end check.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { macFor } from '../../e2e/network.ts';

test('the MAC is locally administered, unicast and made of the four address bytes; the same address gives the same MAC', () => {
  assert.equal(macFor('198.18.0.17'), '02:00:c6:12:00:11');
  assert.equal(macFor('198.18.0.17'), macFor('198.18.0.17'));
  assert.notEqual(macFor('198.18.0.17'), macFor('198.18.0.18'));
  assert.throws(() => macFor('198.18.0'), /not an IPv4 address/);
  assert.throws(() => macFor('198.18.0.256'), /not an IPv4 address/);
});
