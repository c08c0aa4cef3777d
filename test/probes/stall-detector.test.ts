// The stall detector's bookkeeping, with a clock the test moves: which intervals a stall overlaps, one count per stall,
// and no ticking (hence no cost) while nothing is watched. The probes' behaviour under real stalls is in stall.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStallDetector } from '../../src/probes/stall-detector.ts';

const ms = (value: number) => BigInt(value) * 1_000_000n;

function fakeClock(start = 1_000) {
  let now = ms(start);
  return { now: () => now, advance: (by: number) => (now += ms(by)), at: (value: number) => ms(value) };
}

test('a tick overdue by the threshold is a stall from the last tick to now, counted once; later intervals are clean', () => {
  const clock = fakeClock();
  const stalls: number[] = [];
  const detector = createStallDetector({ thresholdMs: 10, tickMs: 20, now: clock.now, onStall: (duration) => stalls.push(duration) });
  const release = detector.watch(); // last tick: 1000
  try {
    clock.advance(25); // 1025: the tick due at 1020 is 5 ms late, below the threshold
    assert.equal(detector.stalledWithin(clock.at(1000), clock.at(1025)), false);
    clock.advance(275); // 1300: 280 ms late
    assert.equal(detector.stalledWithin(clock.at(1010), clock.at(1300)), true, 'a measurement spanning it');
    assert.equal(detector.stalledWithin(clock.at(900), clock.at(1001)), true, 'a measurement ending inside it');
    assert.deepEqual(stalls, [280], 'recorded once, with how far the tick was overdue');
    assert.equal(detector.stalledWithin(clock.at(1301), clock.at(1310)), false, 'a measurement after it');
    assert.equal(detector.stalledWithin(clock.at(500), clock.at(999)), false, 'a measurement before it');
  } finally {
    release();
    detector.close();
  }
});

test('nothing is detected while no measurement is watched, and watching again starts from a fresh tick', () => {
  const clock = fakeClock();
  const stalls: number[] = [];
  const detector = createStallDetector({ thresholdMs: 10, tickMs: 20, now: clock.now, onStall: (duration) => stalls.push(duration) });
  try {
    clock.advance(5_000); // a long pause while idle is nobody's business
    const release = detector.watch();
    assert.equal(detector.stalledWithin(clock.at(6_000), clock.at(6_000)), false);
    release();
    release(); // releasing twice does not release another watcher
    const second = detector.watch();
    const third = detector.watch();
    second();
    clock.advance(100);
    assert.equal(detector.stalledWithin(clock.at(6_000), clock.at(6_100)), true, 'still watched by the third');
    third();
    assert.deepEqual(stalls, [80]);
  } finally {
    detector.close();
  }
});
