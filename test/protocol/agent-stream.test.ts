// The push protocol's encoders (used by the controller's hub) and decoder (used by the agent's controller client):
// every message type survives a round trip, the snapshot written in three chunks is the same line as written whole,
// entries carrying more than the protocol's fields are sent without them, and the decoder names what is wrong.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type AgentEntry,
  encodeAgentList,
  encodeChange,
  encodeHeartbeat,
  encodeSnapshot,
  encodeStreamMessage,
  parseStreamLine,
  type StreamMessage,
} from '../../src/protocol/agent-stream.ts';

const entry = (name: string, overrides: Partial<AgentEntry> = {}): AgentEntry => ({
  name,
  nodeName: `node-${name}`,
  ip: '10.0.0.1',
  zone: 'zone-a',
  ready: true,
  ...overrides,
});

/** Decodes one encoded line (without its newline), failing with the decoder's problems. */
function decode(line: Buffer): StreamMessage {
  const text = line.toString('utf8');
  assert.ok(text.endsWith('\n') && text.indexOf('\n') === text.length - 1, `not one line: ${JSON.stringify(text)}`);
  const parsed = parseStreamLine(text.slice(0, -1));
  if ('problems' in parsed) assert.fail(parsed.problems.join('; '));
  return parsed.message;
}

const MESSAGES: StreamMessage[] = [
  { type: 'snapshot', version: 0, controller: 'c-1', self: { nodeName: 'node-x', zone: 'unknown' }, agents: [] },
  {
    type: 'snapshot',
    version: 7,
    controller: 'c-1',
    self: { nodeName: 'node-a', zone: 'zone-a' },
    agents: [entry('a'), entry('b', { ip: 'fd00::2', zone: 'zone-b', ready: false })],
  },
  { type: 'change', version: 8, upsert: [entry('c')], remove: ['a'] },
  { type: 'change', version: 9, upsert: [], remove: [] },
  { type: 'heartbeat', version: 9 },
];

describe('push protocol: encoders and decoder', () => {
  for (const message of MESSAGES) {
    it(`round-trips a ${message.type} (version ${message.version})`, () => {
      assert.deepEqual(decode(encodeStreamMessage(message)), message);
    });
  }

  it('a snapshot written in chunks (the hub shares the agent list bytes) is the line written whole', () => {
    const message = MESSAGES[1] as Extract<StreamMessage, { type: 'snapshot' }>;
    const list = encodeAgentList(message.agents);
    const chunks = encodeSnapshot({ version: message.version, controller: message.controller, self: message.self }, list);
    assert.equal(chunks[1], list, 'the shared list is written as is, not copied');
    assert.deepEqual(Buffer.concat(chunks), encodeStreamMessage(message));
    assert.deepEqual(decode(Buffer.concat(chunks)), message);
  });

  it('the dedicated change and heartbeat encoders write what the generic one does', () => {
    assert.deepEqual(
      encodeChange({ version: 3, upsert: [entry('a')], remove: ['b'] }),
      encodeStreamMessage({ type: 'change', version: 3, upsert: [entry('a')], remove: ['b'] }),
    );
    assert.deepEqual(encodeHeartbeat(4), encodeStreamMessage({ type: 'heartbeat', version: 4 }));
  });

  it('sends only the protocol fields of an entry with more (which the agents would reject)', () => {
    const wide = { ...entry('a'), podUid: 'd1e2', phase: 'Running' };
    const expected: StreamMessage = { type: 'change', version: 1, upsert: [entry('a')], remove: [] };
    assert.deepEqual(decode(encodeChange({ version: 1, upsert: [wide], remove: [] })), expected);
    const snapshot = Buffer.concat(encodeSnapshot({ version: 1, controller: 'c', self: { nodeName: 'n', zone: 'z' } }, encodeAgentList([wide])));
    assert.deepEqual(decode(snapshot), { type: 'snapshot', version: 1, controller: 'c', self: { nodeName: 'n', zone: 'z' }, agents: [entry('a')] });
  });

  it('the decoder names the field of a bad message, and rejects what the encoders never write', () => {
    assert.deepEqual(parseStreamLine('{"type":"heartbeat","version":-1}'), { problems: ['version: must be ≥ 0'] });
    assert.deepEqual(parseStreamLine('{"type":"nudge","version":1}'), { problems: ['type: must have type snapshot, change or heartbeat'] });
    const duplicate = encodeChange({ version: 2, upsert: [entry('a')], remove: ['a'] })
      .toString('utf8')
      .trim();
    assert.deepEqual(parseStreamLine(duplicate), { problems: ['remove[0]: duplicate agent name "a" in the change (also upsert[0])'] });
    assert.ok('problems' in parseStreamLine('{"type":'));
  });
});
