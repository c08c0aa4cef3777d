// The real `kconmon` CLI (src/cli.ts) as a new user meets it: --help (and -h, and `help COMMAND`) on every command
// prints its usage on stdout and exits 0; --version prints the package version; a missing command, a missing
// configuration or an unknown option exits 2 with the message and that command's usage on stderr (README "Exit status").
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT, runKconmon as kconmon } from '../helpers/kconmon-cli.ts';

const OVERVIEW_HEAD = 'usage: kconmon <command> [options]\n';
const COMMANDS = ['agent', 'controller', 'check-config', 'demo', 'status', 'version', 'help'] as const;
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

// One CLI process at a time: each is a full Node start-up, and a loaded CI machine must not time them out.
describe('kconmon --help and --version', () => {
  it('--help, -h and `help` print the command list on stdout and exit 0', async () => {
    const runs = [await kconmon(['--help']), await kconmon(['-h']), await kconmon(['help'])];
    for (const run of runs) {
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stderr, '');
      assert.ok(run.stdout.startsWith(OVERVIEW_HEAD), run.stdout);
      for (const command of COMMANDS) assert.match(run.stdout, new RegExp(`^  ${command} +\\S`, 'm'), `${command} missing from the list`);
      assert.match(run.stdout, /exit status: 0 ok, 1 runtime failure, 2 bad usage or configuration/);
    }
    assert.equal(runs[1]?.stdout, runs[0]?.stdout);
    assert.equal(runs[2]?.stdout, runs[0]?.stdout);
  });

  for (const command of COMMANDS) {
    it(`${command} --help and help ${command} print its usage on stdout and exit 0`, async () => {
      const runs = [await kconmon([command, '--help']), await kconmon(['help', command])];
      for (const run of runs) {
        assert.equal(run.code, 0, run.stderr);
        assert.equal(run.stderr, '');
        assert.ok(run.stdout.startsWith(`usage: kconmon ${command}`), run.stdout);
        assert.match(run.stdout, /-h, --help/);
      }
      assert.equal(runs[1]?.stdout, runs[0]?.stdout);
    });
  }

  it('agent -h wins over a missing configuration, and documents --config and the environment', async () => {
    const run = await kconmon(['agent', '-h']);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /-c, --config FILE +the agent configuration .*\$KCONMON_CONFIG/);
    assert.match(run.stdout, /environment: NODE_NAME/);
  });

  it('--version, -v and `version` print the package version and exit 0', async () => {
    for (const args of [['--version'], ['-v'], ['version']]) {
      assert.deepEqual(await kconmon(args), { code: 0, signal: null, stdout: `${VERSION}\n`, stderr: '' });
    }
  });
});

describe('kconmon usage errors: exit 2, the message and the usage on stderr', () => {
  it('no command', async () => {
    const run = await kconmon([]);
    assert.equal(run.code, 2);
    assert.equal(run.stdout, '');
    assert.ok(run.stderr.startsWith(`kconmon: no command given\n\n${OVERVIEW_HEAD}`), run.stderr);
  });

  it('agent without --config or $KCONMON_CONFIG prints the usage, not a validation error', async () => {
    for (const env of [{}, { KCONMON_CONFIG: '' }]) {
      const run = await kconmon(['agent'], env);
      assert.equal(run.code, 2);
      assert.equal(run.stdout, '');
      assert.ok(
        run.stderr.startsWith('kconmon: agent needs a configuration: --config FILE or $KCONMON_CONFIG\n\nusage: kconmon agent [--config FILE]\n'),
        run.stderr,
      );
    }
  });

  it('an unknown option names it, with that command usage', async () => {
    for (const command of ['agent', 'controller', 'check-config', 'demo'] as const) {
      const run = await kconmon([command, '--bogus']);
      assert.equal(run.code, 2, command);
      assert.equal(run.stdout, '');
      assert.match(run.stderr, new RegExp(`^kconmon: ${command}: Unknown option '--bogus'`), run.stderr);
      assert.ok(run.stderr.includes(`\n\nusage: kconmon ${command}`), run.stderr);
    }
  });

  it('an option without its value names the option', async () => {
    const run = await kconmon(['controller', '--config']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^kconmon: controller: Option '-c, --config <value>' argument missing/);
    assert.ok(run.stderr.includes('\n\nusage: kconmon controller [--config FILE]\n'), run.stderr);
  });

  it('help for an unknown command, and a positional where none is taken', async () => {
    const unknown = await kconmon(['help', 'agnet']);
    assert.equal(unknown.code, 2);
    assert.ok(unknown.stderr.startsWith(`kconmon: unknown command "agnet"\n\n${OVERVIEW_HEAD}`), unknown.stderr);
    const positional = await kconmon(['agent', 'config.yaml']);
    assert.equal(positional.code, 2);
    assert.match(positional.stderr, /^kconmon: agent: Unexpected argument 'config.yaml'/);
  });
});
