// The shared token as read from a real file: a rotated token is picked up, a file that becomes empty or unreadable
// keeps the last good token (with one warning), and comparison is exact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { openTokenFile } from '../../src/util/token-file.ts';

test('rotation is picked up; an emptied or removed file keeps the last good token', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kconmon-token-'));
  const path = join(dir, 'token');
  const warnings: string[] = [];
  try {
    await writeFile(path, 'first-token\n');
    const token = await openTokenFile(path, { log: pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) }), refreshMs: 0 });
    assert.equal(await token.matches('first-token'), true);
    assert.equal(await token.matches('first-toke'), false);
    await writeFile(path, 'second-token');
    assert.equal(await token.matches('second-token'), true, 'the rotated token is used');
    assert.equal(await token.matches('first-token'), false);
    await writeFile(path, '  \n');
    assert.equal(await token.current(), 'second-token', 'an empty file keeps the last good token');
    await rm(path);
    assert.equal(await token.current(), 'second-token', 'a removed file keeps the last good token');
    assert.equal(warnings.length, 2, warnings.join('\n'));
    assert.match(warnings[0]!, /is empty; keeping the last good token/);
    assert.match(warnings[1]!, /cannot read: ENOENT; keeping the last good token/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
