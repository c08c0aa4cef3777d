// `kconmon demo` as a user runs it: N agent processes on 127.0.0.x, metrics URLs printed, a live table, and with
// --duration an exit status of 0 only when every test passed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('demo: 3 agents in 2 zones, every ordered pair tested, exit 0', async () => {
  const { code, stdout, stderr } = await run(['demo', '--agents', '3', '--zones', '2', '--duration', '5', '--interval', '1000', '--dns']);
  assert.equal(code, 0, `${stdout}\n${stderr}`);
  const urls = stdout.match(/http:\/\/127\.0\.0\.\d+:\d+\/metrics/g) ?? [];
  assert.equal(new Set(urls).size, 3, 'one metrics URL per agent');
  assert.match(stdout, /SOURCE\s+DESTINATION\s+UDP RTT\s+UDP LOSS\s+TCP CONNECT\s+TCP TOTAL\s+STATUS/);
  for (const pair of ['node-1 \\(zone-a\\)\\s+node-2 \\(zone-b\\)', 'node-3 \\(zone-a\\)\\s+node-1 \\(zone-a\\)']) {
    assert.match(stdout, new RegExp(`${pair}\\s+\\d+\\.\\d{3} ms\\s+0%\\s+\\d+\\.\\d{3} ms\\s+\\d+\\.\\d{3} ms\\s+ok`));
  }
  assert.match(stdout, /node-2 dns node-2\.kconmon\.demo: ok/);
  assert.match(stdout, /demo finished: 12\/12 pair results, 0 failed test\(s\)/);
});

test('demo: bad flags exit 2 with a message naming the flag', async () => {
  const { code, stderr } = await run(['demo', '--agents', '1']);
  assert.equal(code, 2);
  assert.match(stderr, /--agents: must be an integer from 2 to 250 \(got "1"\)/);
});

/** Starts a demo, sends SIGINT once it printed that all agents are up, and resolves to its exit status and output. */
function interrupt(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, 'demo', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!interrupted && stdout.includes('all agents are up')) interrupted = child.kill('SIGINT');
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code, signal) => resolve({ code, signal, output: `${stdout}${stderr}` }));
  });
}

test('demo: Ctrl-C ends an open-ended demo with 0, a timed one (not finished) with 1', async () => {
  const open = await interrupt(['--agents', '2', '--zones', '1']);
  const timed = await interrupt(['--agents', '2', '--zones', '1', '--duration', '600']);
  for (const run of [open, timed]) assert.match(run.output, /stopping the demo/, run.output);
  assert.deepEqual([open.code, open.signal], [0, null], open.output);
  assert.deepEqual([timed.code, timed.signal], [1, null], timed.output);
});
