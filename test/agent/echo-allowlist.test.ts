// The echo's allowlist: known agents are answered, strangers never, departed agents only during the grace period.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEchoAllowlist } from '../../src/agent/echo-allowlist.ts';

test('answers current agents (IPv4-mapped too), departed ones only within the grace period, strangers never', () => {
  let now = 1000;
  const allowlist = createEchoAllowlist(60_000, () => now);
  allowlist.update(['127.0.0.1', '::1', '127.0.0.2']);
  assert.equal(allowlist.allows('127.0.0.1'), true);
  assert.equal(allowlist.allows('::ffff:127.0.0.1'), true);
  assert.equal(allowlist.allows('::1'), true);
  assert.equal(allowlist.allows('127.0.0.3'), false);
  allowlist.update(['127.0.0.1']);
  now += 59_999;
  assert.equal(allowlist.allows('127.0.0.2'), true, 'departed, still in grace');
  now += 2;
  assert.equal(allowlist.allows('127.0.0.2'), false, 'grace over');
  allowlist.update(['127.0.0.1', '127.0.0.2']);
  assert.equal(allowlist.allows('127.0.0.2'), true, 'back again');
});
