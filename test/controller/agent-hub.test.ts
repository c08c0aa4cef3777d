// The controller's hub: diffs by agent, versions every change, snapshot then changes per stream, one encoding per
// change for all streams, and a stream that stops reading is dropped rather than buffered without bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAgentHub, type StreamSink } from '../../src/controller/agent-hub.ts';
import type { AgentEntry } from '../../src/protocol/agent-stream.ts';
import { parseStreamLine } from '../../src/protocol/agent-stream.ts';

function sink(): StreamSink & { lines: unknown[]; chunks: (string | Buffer)[]; destroyed: boolean; queued: number } {
  let pending = '';
  const state = {
    lines: [] as unknown[],
    chunks: [] as (string | Buffer)[],
    destroyed: false,
    queued: 0,
    write(chunk: string | Buffer) {
      state.chunks.push(chunk);
      pending += chunk.toString();
      for (let newline = pending.indexOf('\n'); newline !== -1; newline = pending.indexOf('\n')) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        const parsed = parseStreamLine(line);
        assert.ok('message' in parsed, `valid protocol line: ${line}`);
        state.lines.push(parsed.message);
      }
      return true;
    },
    get writableLength() {
      return state.queued;
    },
    end() {},
    destroy() {
      state.destroyed = true;
    },
  };
  return state;
}

const entry = (name: string, overrides: Partial<AgentEntry> = {}): AgentEntry => ({
  name,
  nodeName: `node-${name}`,
  ip: '127.0.0.1',
  zone: 'a',
  ready: true,
  ...overrides,
});

test('snapshot on subscribe, then versioned changes carrying only what changed', () => {
  const hub = createAgentHub({ zoneOfNode: (node) => (node === 'node-x' ? 'zone-x' : undefined) });
  hub.update([entry('a'), entry('b')]);
  hub.markSynced();
  const stream = sink();
  hub.subscribe({ nodeName: 'node-x', podName: 'x', connectedAt: 0 }, stream);
  assert.deepEqual(stream.lines[0], {
    type: 'snapshot',
    version: 1,
    controller: hub.id,
    self: { nodeName: 'node-x', zone: 'zone-x' },
    agents: [entry('a'), entry('b')],
  });
  assert.equal(hub.update([entry('a'), entry('b')]), false, 'an identical set is no change');
  hub.update([entry('a', { ready: false }), entry('c')]);
  assert.deepEqual(stream.lines[1], { type: 'change', version: 2, upsert: [entry('a', { ready: false }), entry('c')], remove: ['b'] });
  hub.heartbeat();
  assert.deepEqual(stream.lines[2], { type: 'heartbeat', version: 2 });
});

test("a change and a snapshot's agent list are encoded once: every stream receives the very same bytes", () => {
  const hub = createAgentHub({ zoneOfNode: () => 'a' });
  hub.update([entry('a')]);
  hub.markSynced();
  const streams = Array.from({ length: 3 }, () => sink());
  for (const [index, stream] of streams.entries()) hub.subscribe({ nodeName: `n${index}`, podName: undefined, connectedAt: 0 }, stream);
  const lists = streams.map((stream) => stream.chunks[1]);
  assert.ok(Buffer.isBuffer(lists[0]) && lists.every((chunk) => chunk === lists[0]), 'one shared agent-list buffer');
  hub.update([entry('a'), entry('b')]);
  const changes = streams.map((stream) => stream.chunks.at(-1));
  assert.ok(Buffer.isBuffer(changes[0]) && changes.every((chunk) => chunk === changes[0]), 'one shared change buffer');
});

test('no change is broadcast before the source has synced', () => {
  const hub = createAgentHub({ zoneOfNode: () => undefined });
  const stream = sink();
  hub.subscribe({ nodeName: 'n', podName: undefined, connectedAt: 0 }, stream);
  hub.update([entry('a')]);
  assert.equal(stream.lines.length, 1, 'only the snapshot');
});

test('a stream that does not read is dropped once too much is queued', () => {
  const dropped: string[] = [];
  const hub = createAgentHub({
    zoneOfNode: () => undefined,
    maxQueuedBytes: 100,
    events: { onSlowSubscriberDropped: (subscriber) => dropped.push(subscriber.nodeName) },
  });
  hub.markSynced();
  const slow = sink();
  const fast = sink();
  hub.subscribe({ nodeName: 'slow', podName: undefined, connectedAt: 0 }, slow);
  hub.subscribe({ nodeName: 'fast', podName: undefined, connectedAt: 0 }, fast);
  slow.queued = 101;
  hub.update([entry('a')]);
  assert.equal(slow.destroyed, true);
  assert.deepEqual(dropped, ['slow']);
  assert.deepEqual(
    hub.subscribers().map((subscriber) => subscriber.nodeName),
    ['fast'],
  );
});
