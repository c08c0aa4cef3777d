// harness/wait.ts: the value the check settles on, retried errors, GiveUp and failed assertions ending the wait at
// once, and a timeout that names what it waited for with the check's last note.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GiveUp, waitUntil } from '../../harness/wait.ts';

test('resolves with the first value other than undefined/false, retrying thrown errors meanwhile', async () => {
  const seen: string[] = [];
  const value = await waitUntil(
    'the third call',
    10_000,
    () => {
      seen.push(`call ${seen.length + 1}`);
      if (seen.length === 1) throw new Error('connection refused');
      return seen.length === 3 ? { done: true } : false;
    },
    1,
  );
  assert.deepEqual(value, { done: true });
  assert.deepEqual(seen, ['call 1', 'call 2', 'call 3']);
});

test('GiveUp and a failed assertion end the wait at the first call', async () => {
  for (const failure of [new GiveUp('process exited'), new assert.AssertionError({ message: 'wrong value' })]) {
    let calls = 0;
    await assert.rejects(
      waitUntil(
        'never',
        60_000,
        () => {
          calls++;
          throw failure;
        },
        1,
      ),
      failure,
    );
    assert.equal(calls, 1);
  }
});

test('a timeout names what was awaited and the last note', async () => {
  await assert.rejects(
    waitUntil(
      'the moon',
      20,
      (note) => {
        note('still 384,400 km away');
        return undefined;
      },
      5,
    ),
    /^Error: timed out after 20 ms waiting for the moon \(last: still 384,400 km away\)$/,
  );
});
