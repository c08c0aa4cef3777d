// `kconmon status` as a user meets it, with the real CLI: a bad --output or --controller is a usage error (exit 2, the
// message and the usage on stderr); a controller that does not answer is one line naming the URL and exit 1 (no
// answer is not healthy). Its answers against a real controller are tested in test/controller/verdicts-live.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freePort } from '../../harness/ports.ts';
import { runKconmon } from '../helpers/kconmon-cli.ts';

describe('kconmon status', () => {
  it('rejects an unknown output format with exit 2 and the usage', async () => {
    const run = await runKconmon(['status', '-o', 'yaml']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^kconmon: --output: must be table or json \(got "yaml"\)\n\nusage: kconmon status/);
  });

  it('rejects a controller that is not a URL with exit 2', async () => {
    const run = await runKconmon(['status', '--controller', 'not a url']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--controller: not a URL/);
  });

  it('exits 1 with one line naming the URL when nothing answers', async () => {
    const port = await freePort();
    const run = await runKconmon(['status', '--controller', `http://127.0.0.1:${port}`]);
    assert.equal(run.code, 1, run.stdout);
    assert.equal(run.stdout, '');
    const lines = run.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0]!, new RegExp(`^kconmon status: cannot read http://127\\.0\\.0\\.1:${port}/api/v1/status: `));
  });
});
