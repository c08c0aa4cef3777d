// Abort callbacks shared by a probe kind: one abort listener per signal, each registered callback called once on abort,
// an unregistered one never, and a callback registered on an already aborted signal at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { createAbortCallbacks, DIRECT_ABORT_CALLBACKS } from '../../src/util/abort-callbacks.ts';

test('callbacks registered on a signal run once on its abort; unregistered ones never; one listener per signal', () => {
  const callbacks = createAbortCallbacks();
  const controller = new AbortController();
  const calls: string[] = [];
  const first = () => calls.push('first');
  const second = () => calls.push('second');
  const removed = () => calls.push('removed');
  callbacks.onAbort(controller.signal, first);
  callbacks.onAbort(controller.signal, removed);
  callbacks.onAbort(controller.signal, second);
  callbacks.offAbort(controller.signal, removed);
  assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
  controller.abort();
  controller.abort();
  assert.deepEqual(calls, ['first', 'second']);
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  callbacks.offAbort(controller.signal, first); // after the abort: nothing happens
  assert.deepEqual(calls, ['first', 'second']);
});

test('a callback registered on an aborted signal runs at once, for the shared and the direct kind alike', () => {
  for (const callbacks of [createAbortCallbacks(), DIRECT_ABORT_CALLBACKS]) {
    const controller = new AbortController();
    controller.abort();
    let called = 0;
    callbacks.onAbort(controller.signal, () => called++);
    assert.equal(called, 1);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  }
});

test('signals are independent: aborting one calls only its own callbacks', () => {
  const callbacks = createAbortCallbacks();
  const one = new AbortController();
  const other = new AbortController();
  const calls: string[] = [];
  callbacks.onAbort(one.signal, () => calls.push('one'));
  callbacks.onAbort(other.signal, () => calls.push('other'));
  one.abort();
  assert.deepEqual(calls, ['one']);
  other.abort();
  assert.deepEqual(calls, ['one', 'other']);
});
