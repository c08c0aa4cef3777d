// The Wilson lower bound: enough packets to be sure, never one unlucky packet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { surelyAbove, wilsonLowerBound } from '../../src/verdicts/binomial.ts';

const Z = 2.33;

test('nothing sent or nothing lost bounds the rate at 0', () => {
  assert.equal(wilsonLowerBound(0, 0, Z), 0);
  assert.equal(wilsonLowerBound(0, 1000, Z), 0);
});

test('one lost packet of five (20 %) is not sure to exceed 5 %; 20 of 100 is', () => {
  assert.equal(surelyAbove(1, 5, 0.05, Z), false);
  assert.equal(surelyAbove(2, 10, 0.05, Z), false);
  assert.equal(surelyAbove(20, 100, 0.05, Z), true);
});

test('the bound lies below the measured rate and rises towards it with more packets', () => {
  let previous = 0;
  for (const sent of [10, 100, 1000, 10000]) {
    const bound = wilsonLowerBound(sent * 0.2, sent, Z);
    assert.ok(bound < 0.2 && bound > previous, `${sent}: ${bound}`);
    previous = bound;
  }
});

test('everything lost bounds the rate below 1, the more packets the closer', () => {
  assert.ok(wilsonLowerBound(5, 5, Z) < wilsonLowerBound(50, 50, Z));
  assert.ok(wilsonLowerBound(50, 50, Z) < 1);
});
