// The report protocol's encoder (used by the agent's sender) and decoder (used by the controller): a batch survives a
// round trip, and every kind of bad field is named in one line.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeReportBatch, parseReportLine, type ReportBatch } from '../../src/protocol/report-stream.ts';

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
