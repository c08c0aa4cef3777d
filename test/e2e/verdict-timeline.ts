// The controller's verdicts window by window, for the end-to-end fault scenarios: a background poll of
// `GET /api/v1/status` ten times per window keeps one entry per closed window (its end and its active verdicts), so a
// scenario can assert the order of events in windows — the e2e's time scale (one window = one probe interval) — rather
// than in milliseconds: the window that first shows a fault, the window that raised its verdict, the first window
// without it after healing, and that nothing else was ever raised meanwhile.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitUntil } from '../../harness/wait.ts';
import type { StatusDocument, StatusVerdict } from '../../src/controller/verdict-status.ts';

export interface ObservedWindow {
  /** End of the closed window, Unix ms (windows are aligned to multiples of their length). */
  readonly end: number;
  readonly verdicts: readonly StatusVerdict[];
}

export interface VerdictTimeline {
  /** The windows seen so far, in order. */
  windows(): readonly ObservedWindow[];
  /** Waits until a window ending after `after` (default: any) satisfies `matches`, and returns the first such window. */
  waitFor(what: string, matches: (window: ObservedWindow) => boolean, timeoutMs: number, after?: number): Promise<ObservedWindow>;
  stop(): Promise<void>;
}

/** Starts polling `fetchStatus` every `pollMs` until stop(). A failed poll is retried; the last error is reported on timeout. */
export function startVerdictTimeline(fetchStatus: () => Promise<StatusDocument>, pollMs = 100): VerdictTimeline {
  const seen: ObservedWindow[] = [];
  let stopped = false;
  let lastError = '';
  const polling = (async () => {
    while (!stopped) {
      try {
        const status = await fetchStatus();
        const end = status.window === null ? undefined : Date.parse(status.window.end);
        if (end !== undefined && (seen.length === 0 || end > seen[seen.length - 1]!.end)) seen.push({ end, verdicts: status.verdicts });
      } catch (error) {
        lastError = (error as Error).message;
      }
      await sleep(pollMs, undefined, { ref: false }); // never what keeps a finished test process alive
    }
  })();
  return {
    windows: () => seen,
    waitFor(what, matches, timeoutMs, after = Number.NEGATIVE_INFINITY) {
      return waitUntil(
        what,
        timeoutMs,
        (note) => {
          const last = seen[seen.length - 1];
          note(
            `${last ? `window ending ${new Date(last.end).toISOString()}: [${ids(last).join(', ')}]` : 'no window yet'}${lastError ? `; ${lastError}` : ''}`,
          );
          return seen.find((window) => window.end > after && matches(window));
        },
        50,
      );
    },
    async stop() {
      stopped = true;
      await polling;
    },
  };
}

export const ids = (window: ObservedWindow): string[] => window.verdicts.map((verdict) => verdict.id).sort();

/**
 * Sleeps until `offsetMs` after the next multiple of `windowMs` (the controller closes windows on those boundaries),
 * runs `act`, and returns when it began and the start of the window it began in. A fault applied early in a window
 * leaves every test that began before it to end in that same window (tests last at most half an interval).
 */
export async function atWindowStart(windowMs: number, act: () => void, offsetMs = 20): Promise<Applied> {
  await sleep(windowMs - (Date.now() % windowMs) + offsetMs);
  const began = Date.now();
  act();
  return { windowStart: Math.floor(began / windowMs) * windowMs, began };
}

/** When a fault or heal was applied: the start of the window it fell in, and when it began (Unix ms). */
export interface Applied {
  readonly windowStart: number;
  readonly began: number;
}

export interface CourseEvents {
  readonly fault: Applied;
  /**
   * Start of the first window after the fault's in which enough of the faulty pairs reported a failed test (every test
   * ending then began after the fault). Usually the next window; one later when the probe loops' jitter (their period
   * is the interval plus 50–200 ms) left a window without a test of those pairs.
   */
  readonly failedBy: number;
  readonly heal: Applied;
  /** Start of the first window after the heal's in which enough of them reported a passed test. */
  readonly passedBy: number;
}

export interface VerdictCourse {
  /** The verdict as first seen active. */
  readonly verdict: StatusVerdict;
  /** The first window without it after healing. */
  readonly clearedBy: ObservedWindow;
  readonly lines: string[];
}

/**
 * Asserts the course of one fault in windows (W = one window = one probe interval), as an order of events:
 * - no other verdict in any window from the fault on;
 * - its run began no earlier than the fault's window and no later than `failedBy` (the first window that holds the
 *   faulty pairs' reports), and it was raised exactly two windows after that (the hysteresis, nothing slower): so when
 *   the next window holds their reports, as it does unless the jitter skipped one, it is raised by the fault's
 *   window + 3W;
 * - exactly it, of `kind`, in every window from its raise until the heal's window closes;
 * - the first window without it ends by `passedBy` + 2W (two clean windows), and nothing returns afterwards.
 */
export function assertVerdictCourse(
  timeline: readonly ObservedWindow[],
  expected: { readonly id: string; readonly kind: StatusVerdict['kind'] },
  events: CourseEvents,
  windowMs: number,
): VerdictCourse {
  const { fault, heal, failedBy, passedBy } = events;
  const shown = (window: ObservedWindow) =>
    `window ending ${iso(window.end)}: [${window.verdicts.map((verdict) => `${verdict.kind} ${verdict.id}`).join(', ')}]`;
  const during = timeline.filter((window) => window.end > fault.windowStart);
  const stray = during.filter((window) => window.verdicts.some((verdict) => verdict.id !== expected.id || verdict.kind !== expected.kind));
  assert.deepEqual(stray.map(shown), [], `no verdict other than ${expected.kind} ${expected.id} in any window from the fault on`);
  const firstActive = during.find((window) => ids(window).includes(expected.id));
  assert.ok(firstActive, `${expected.id} was raised`);
  const verdict = firstActive.verdicts.find((candidate) => candidate.id === expected.id)!;
  const since = Date.parse(verdict.since);
  const raisedAt = Date.parse(verdict.raisedAt);
  const windowsFrom = (time: number, from: number) => (time - from) / windowMs;
  assert.ok(since >= fault.windowStart, `${expected.id}: its run began (${verdict.since}) no earlier than the fault's window (${iso(fault.windowStart)})`);
  assert.ok(since <= failedBy, `${expected.id}: its run began (${verdict.since}) no later than the first window holding the failed tests (${iso(failedBy)})`);
  assert.equal(raisedAt, since + 2 * windowMs, `${expected.id}: raised at the close of its run's second window`);
  const holding = timeline.filter((window) => window.end >= raisedAt && window.end <= heal.windowStart + windowMs);
  assert.ok(holding.length > 0, `${expected.id}: seen active before the heal`);
  const notExactly = holding.filter((window) => ids(window).join() !== expected.id);
  assert.deepEqual(notExactly.map(shown), [], `exactly ${expected.id} in every window from its raise until the heal's window closes`);
  const clearedBy = timeline.find((window) => window.end > heal.windowStart + windowMs && ids(window).length === 0);
  assert.ok(clearedBy, `${expected.id} cleared after healing`);
  assert.ok(
    clearedBy.end <= passedBy + 2 * windowMs,
    `${expected.id}: the first window without it (ending ${iso(clearedBy.end)}) closes by two windows after the first` +
      ` holding the passed tests (${iso(passedBy)})`,
  );
  const relapsed = timeline.filter((window) => window.end > clearedBy.end && ids(window).length > 0);
  assert.deepEqual(relapsed.map(shown), [], 'nothing raised again after it cleared');
  const raisedWindows = windowsFrom(raisedAt, fault.windowStart);
  const clearedWindows = windowsFrom(clearedBy.end, heal.windowStart);
  return {
    verdict,
    clearedBy,
    lines: [
      `fault applied ${ms(fault.began - fault.windowStart)} into its window; failed tests in the window +${windowsFrom(failedBy, fault.windowStart)};` +
        ` run began +${windowsFrom(since, fault.windowStart)}; raised at the close of window +${raisedWindows - 1},` +
        ` ${ms(raisedAt - fault.began)} after the fault` +
        ` (${raisedWindows} windows after the fault's began: ${raisedWindows <= 3 ? 'within' : 'beyond'} 3 intervals)`,
      `healed ${ms(heal.began - heal.windowStart)} into its window; passed tests in the window +${windowsFrom(passedBy, heal.windowStart)};` +
        ` the first window without the verdict closed ${ms(clearedBy.end - heal.began)} after the heal` +
        ` (${clearedWindows} windows after the heal's began: ${clearedWindows <= 3 ? 'within' : 'beyond'} 3 intervals)`,
    ],
  };
}

/**
 * The start of the window in which the `needed`-th pair had its first event (pairs keyed `source>destination`, events
 * keyed `source>destination/test` as firstEvents returns them): the window by which enough pairs had reported.
 */
export function windowByWhich(events: ReadonlyMap<string, number>, pairs: readonly string[], needed: number, windowMs: number): number {
  const firsts = pairs.map((pair) => Math.min(...[...events].filter(([key]) => key.startsWith(`${pair}/`)).map(([, at]) => at))).sort((a, b) => a - b);
  const at = firsts[needed - 1];
  assert.ok(at !== undefined && Number.isFinite(at), `an event on ${needed} of the pairs ${pairs.join(', ')}`);
  return Math.floor(at / windowMs) * windowMs;
}

const iso = (time: number) => new Date(time).toISOString();
const ms = (value: number) => `${value.toFixed(0)} ms`;
