// The shared backoff: the ceiling doubles per step from min up to max, the delay lies in the ceiling's upper half.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay } from '../../src/util/backoff.ts';

const range = { min: 100, max: 1000 };

test('step 0 waits between min/2 and min; each step doubles the ceiling; max caps it', () => {
  const ceilings = [0, 1, 2, 3, 4, 30].map((step) => backoffDelay(range, step, () => 1));
  assert.deepEqual(ceilings, [100, 200, 400, 800, 1000, 1000]);
  const floors = [0, 1, 2, 3, 4, 30].map((step) => backoffDelay(range, step, () => 0));
  assert.deepEqual(floors, [50, 100, 200, 400, 500, 500]);
});

test('a negative step (no failure counted yet) waits like step 0', () => {
  assert.equal(
    backoffDelay(range, -1, () => 1),
    100,
  );
});
