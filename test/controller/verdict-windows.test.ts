// The controller's verdict windows on a clock the test sets: outcomes are stamped receivedAt − age, windows close on
// multiples of the window length (a grace after each end), an outcome stamped after the open window's end waits for
// that close, and after a stall every missed boundary is closed in turn. The engine is a recording stand-in.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startVerdictWindows, type ClosedWindow } from '../../src/controller/verdict-windows.ts';
import type { VerdictEngine } from '../../src/verdicts/engine.ts';
import type { WindowReport } from '../../src/verdicts/types.ts';

function recordingEngine(events: string[]): (start: number) => VerdictEngine {
  return (start) => {
    events.push(`start ${start}`);
    return {
      record(outcome) {
        events.push(`record ${outcome.destination} at ${outcome.at}`);
        return undefined;
      },
      closeWindow(now) {
        events.push(`close ${now}`);
        const stats = { outcomes: 0, ignored: 0, pairsKnown: 0, pairsDown: 0, pairsDownUnexplained: 0, asymmetricPathsOmitted: 0, pairsTracked: 0 };
        return { windowStart: now - 1000, windowEnd: now, verdicts: [], findings: [], stats, pairs: [] } satisfies WindowReport;
      },
      verdicts: () => [],
    };
  };
}

const outcome = (destination: string, ageMs: number) => ({ kind: 'udp' as const, destination, packetsSent: 5, packetsLost: 0, rttMs: 1, ageMs });

describe('verdict windows', () => {
  it('ignores outcomes from or to a name without an agent, never handing them to the engine', () => {
    const events: string[] = [];
    const windows = startVerdictWindows({
      windowMs: 1000,
      graceMs: 100,
      now: () => 10_250,
      createEngine: recordingEngine(events),
      topology: () => ({ nodes: [] }),
      zoneOf: (node) => (node.startsWith('stranger') ? undefined : 'zone-a'),
    });
    try {
      assert.deepEqual(windows.recordBatch('stranger-1', [outcome('node-2', 0)], 10_250), { recorded: 0, ignored: 1 });
      assert.deepEqual(windows.recordBatch('node-1', [outcome('stranger-2', 0), outcome('node-2', 0)], 10_250), { recorded: 1, ignored: 1 });
      assert.deepEqual(events, ['start 10000', 'record node-2 at 10250']);
    } finally {
      windows.close();
    }
  });

  it('holds an outcome of the next window until the open one closed, on aligned boundaries', async () => {
    let clock = 10_250;
    const events: string[] = [];
    const closed: ClosedWindow[] = [];
    let onClose: () => void = () => undefined;
    const windows = startVerdictWindows({
      windowMs: 1000,
      graceMs: 100,
      now: () => clock,
      createEngine: recordingEngine(events),
      topology: () => ({ nodes: [] }),
      zoneOf: (node) => (node.startsWith('stranger') ? undefined : 'zone-a'),
      onWindow: (window) => {
        closed.push(window);
        onClose();
      },
    });
    try {
      // Received at 11,050 (in the grace): one outcome of the open window, one stamped after its end.
      clock = 11_050;
      windows.recordBatch('node-1', [outcome('late-in-window', 600), outcome('next-window', 10)], clock);
      const firstClose = new Promise<void>((resolve) => (onClose = resolve));
      clock = 11_100;
      await firstClose;
      assert.deepEqual(events, ['start 10000', 'record late-in-window at 10450', 'close 11000', 'record next-window at 11040']);
      assert.equal(closed[0]!.agentsReporting, 1);
      assert.equal(windows.last(), closed[0]);

      // A stall of three windows: each missed boundary is closed in turn, the next-window outcome counted in 12,000's.
      events.length = 0;
      const threeCloses = new Promise<void>((resolve) => (onClose = () => closed.length === 4 && resolve()));
      clock = 14_150;
      await threeCloses;
      assert.deepEqual(events, ['close 12000', 'close 13000', 'close 14000']);
      assert.deepEqual(
        closed.map((window) => window.agentsReporting),
        [1, 1, 0, 0],
      );
    } finally {
      windows.close();
    }
  });
});
