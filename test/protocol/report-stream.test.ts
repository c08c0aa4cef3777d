// The report protocol's encoder (used by the agent's sender) and decoder (used by the controller): a batch survives a
// round trip, and every kind of bad field is named in one line; the allocation-free path for valid batches accepts only
// what the schema accepts, with the same result (property-based).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { encodeReportBatch, parseReportLine, schemaBatch, validBatch, type ReportBatch } from '../../src/protocol/report-stream.ts';

function roundTrip(batch: ReportBatch): ReportBatch {
  const text = encodeReportBatch(batch).toString('utf8');
  assert.ok(text.endsWith('\n') && text.indexOf('\n') === text.length - 1, `not one line: ${JSON.stringify(text)}`);
  const parsed = parseReportLine(text.slice(0, -1));
  assert.ok('batch' in parsed, JSON.stringify(parsed));
  return parsed.batch;
}

describe('report protocol', () => {
  it('round-trips every kind, with and without an RTT', () => {
    const batch: ReportBatch = {
      sent: 1234,
      outcomes: [
        { kind: 'udp', destination: 'node-7', packetsSent: 5, packetsLost: 0, rttMs: 0.412, ageMs: 180 },
        { kind: 'tcp', destination: 'node-9', packetsSent: 1, packetsLost: 1, rttMs: undefined, ageMs: 950 },
        { kind: 'dns', destination: 'kube-dns', packetsSent: 1, packetsLost: 0, rttMs: 1.2, ageMs: 40 },
      ],
    };
    assert.deepEqual(roundTrip(batch), batch);
  });

  it('writes the compact row form of the design note', () => {
    const line = encodeReportBatch({ sent: 5, outcomes: [{ kind: 'udp', destination: 'n', packetsSent: 5, packetsLost: 1, rttMs: Number.NaN, ageMs: 3.6 }] });
    assert.equal(line.toString(), '{"v":1,"sent":5,"r":[["u","n",5,1,null,4]]}\n');
  });

  const bad: Array<[string, string]> = [
    ['{"v":2,"sent":1,"r":[]}', 'v: '],
    ['{"v":1,"sent":1,"r":[["x","n",1,0,null,0]]}', 'r[0][0]: kind must be u, t or d'],
    ['{"v":1,"sent":1,"r":[["u","",1,0,null,0]]}', 'r[0][1]: destination must not be empty'],
    ['{"v":1,"sent":1,"r":[["u","n",-1,0,null,0]]}', 'r[0][2]: must be ≥ 0'],
    ['{"v":1,"sent":1,"r":[["u","n",1,2,null,0]]}', 'r[0][3]: lost (2) must be ≤ sent (1)'],
    ['{"v":1,"sent":1,"r":[["u","n",1,0,-3,0]]}', 'r[0][4]: RTT must be ≥ 0'],
    ['{"v":1,"sent":1,"r":[["u","n",1,0,null,1.5]]}', 'r[0][5]: age must be an integer'],
    ['{"v":1,"sent":1,"r":[["u","n",1,0,null]]}', 'r[0]'],
    ['{"v":1,"sent":1,"r":[],"extra":1}', 'extra: unknown key'],
    ['{"v":1,', 'not JSON'],
  ];
  for (const [line, expected] of bad) {
    it(`names the problem of ${line}`, () => {
      const parsed = parseReportLine(line);
      assert.ok('problems' in parsed, 'accepted a bad line');
      assert.ok(parsed.problems.length >= 1);
      assert.ok(parsed.problems[0]!.startsWith(expected), `${parsed.problems.join('; ')} does not start with ${expected}`);
    });
  }
});

describe('report protocol: the fast path agrees with the schema', () => {
  // Valid batches, each with at most one field replaced by a boundary or wrong-typed value (or a key added or removed).
  const validRow = fc.tuple(
    fc.constantFrom('u', 't', 'd'),
    fc.oneof(fc.string({ minLength: 1, maxLength: 4 }), fc.constant('n'.repeat(253))),
    fc.integer({ min: 3, max: 1_000_000 }),
    fc.integer({ min: 0, max: 3 }),
    fc.oneof(fc.constant(null), fc.double({ min: 0, max: 1e6, noNaN: true })),
    fc.integer({ min: 0, max: 86_400_000 }),
  );
  const boundary = fc.constantFrom<unknown>(
    -1,
    0,
    1,
    0.5,
    2,
    3,
    1_000_000,
    1_000_001,
    86_400_000,
    86_400_001,
    -0.5,
    null,
    true,
    '',
    'u',
    'x',
    'n'.repeat(253),
    'n'.repeat(254),
    [],
    {},
  );
  const document = fc
    .record({
      sent: fc.double({ noNaN: true, noDefaultInfinity: true }),
      r: fc.array(validRow, { maxLength: 4 }),
      mutation: fc.option(fc.tuple(fc.nat(), fc.integer({ min: -3, max: 6 }), boundary)),
    })
    .map(({ sent, r, mutation }) => {
      const doc: Record<string, unknown> = { v: 1, sent, r: r.map((row) => [...row]) };
      if (mutation === null) return doc;
      const [at, field, value] = mutation;
      if (field === -3) doc.extra = value;
      else if (field === -2) delete doc[['v', 'sent', 'r'][at % 3] as string];
      else if (field === -1) doc[['v', 'sent', 'r'][at % 3] as string] = value;
      else if (r.length > 0) ((doc.r as unknown[][])[at % r.length] as unknown[])[field] = value;
      return doc;
    });

  it('accepts only what the schema accepts, with the same batch', () => {
    let accepted = 0;
    fc.assert(
      fc.property(document, (candidate) => {
        // Through JSON, as the controller receives it.
        const parsed: unknown = JSON.parse(JSON.stringify(candidate));
        const fast = validBatch(parsed);
        const schema = schemaBatch(parsed);
        if (fast !== undefined) {
          accepted++;
          assert.deepEqual({ batch: fast }, schema);
        } else assert.ok(!('batch' in schema), `the schema accepts what the fast path refused: ${JSON.stringify(parsed)}`);
      }),
      { numRuns: 20_000 },
    );
    assert.ok(accepted > 1000, `the valid case is exercised (${accepted} accepted)`);
  });

  it('takes the common case: a sender-written batch', () => {
    const line = encodeReportBatch({
      sent: 9,
      outcomes: [{ kind: 'tcp', destination: 'node-1', packetsSent: 1, packetsLost: 1, rttMs: undefined, ageMs: 12 }],
    }).toString('utf8');
    assert.ok(validBatch(JSON.parse(line)) !== undefined);
  });
});
