// The shared timer queue: entries fire in due order, never before their due time, once per scheduling; a cancelled
// entry never fires; rescheduling a queued entry moves it; many entries share one timer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTimerQueue, type TimedEntry } from '../../src/util/timer-queue.ts';

function entry(name: string, fired: Array<{ name: string; lateBy: number }>): TimedEntry {
  const self: TimedEntry = {
    dueAt: 0,
    queueIndex: -1,
    fire: () => fired.push({ name, lateBy: performance.now() - self.dueAt }),
  };
  return self;
}

test('entries fire in due order, never early; cancelled and rescheduled entries behave', async () => {
  const queue = createTimerQueue();
  const fired: Array<{ name: string; lateBy: number }> = [];
  const now = performance.now();
  const offsets = [40, 5, 25, 60, 15, 35, 10, 50, 20, 30];
  const entries = offsets.map((offset) => {
    const e = entry(`t${offset}`, fired);
    queue.schedule(e, now + offset);
    return e;
  });
  queue.cancel(entries[2]!); // t25 never fires
  queue.schedule(entries[0]!, now + 70); // t40 moves to the end
  assert.equal(queue.size, 9);
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.deepEqual(
    fired.map((f) => f.name),
    ['t5', 't10', 't15', 't20', 't30', 't35', 't50', 't60', 't40'],
  );
  for (const f of fired) assert.ok(f.lateBy >= 0, `${f.name} fired ${-f.lateBy} ms early`);
  assert.equal(queue.size, 0);
  assert.equal(entries[2]!.queueIndex, -1);
});

test('an entry rescheduled from its own fire() fires again; the queue holds no timer once empty', async () => {
  const queue = createTimerQueue();
  let count = 0;
  const repeating: TimedEntry = {
    dueAt: 0,
    queueIndex: -1,
    fire: () => {
      if (++count < 3) queue.schedule(repeating, performance.now() + 5);
    },
  };
  queue.schedule(repeating, performance.now() + 5);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(count, 3);
  assert.equal(queue.size, 0);
  // No timer keeps the process alive: the test runner would hang on an armed, ref'd timer otherwise.
});
