// The chart's embedded files: the dashboard and alerts (byte-identical copies of deploy/grafana/kconmon.json and
// deploy/prometheus/alerts.yaml once those exist; valid JSON/YAML in any case), and the tcp-tweaks script, run for
// real against a fake /proc/sys: it sets what it can, logs and skips what it cannot, and always exits 0.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import YAML from 'yaml';
import { CHART_DIR, ORIGINAL_SYSCTLS, REPO_ROOT } from './helm.ts';

type Json = any;

const COPIES = [
  { chart: 'files/kconmon.json', deploy: 'deploy/grafana/kconmon.json' },
  { chart: 'files/alerts.yaml', deploy: 'deploy/prometheus/alerts.yaml' },
] as const;

describe('chart files: dashboard and alerts', () => {
  for (const { chart, deploy } of COPIES) {
    it(`${chart} is a byte-identical copy of ${deploy} (when that exists)`, () => {
      const chartPath = path.join(CHART_DIR, chart);
      assert.ok(existsSync(chartPath), `${chartPath} is missing`);
      const deployPath = path.join(REPO_ROOT, deploy);
      if (existsSync(deployPath)) {
        assert.ok(readFileSync(chartPath).equals(readFileSync(deployPath)), `charts/kconmon/${chart} differs from ${deploy}: run cp ${deploy} charts/kconmon/${chart}`);
      }
    });
  }

  it('files/kconmon.json is a Grafana dashboard with panels querying kconmon metrics', () => {
    const dashboard = JSON.parse(readFileSync(path.join(CHART_DIR, 'files/kconmon.json'), 'utf8')) as Json;
    assert.equal(typeof dashboard.title, 'string');
    const panels = (dashboard.panels ?? []) as Json[];
    const exprs = panels.flatMap((panel) => [panel, ...((panel.panels ?? []) as Json[])]).flatMap((panel) => ((panel.targets ?? []) as Json[]).map((t) => String(t.expr ?? '')));
    assert.ok(exprs.length > 0, 'no panel queries');
    assert.ok(exprs.some((expr) => /\bkconmon_/.test(expr)), 'no panel queries a kconmon_ metric');
  });

  it('files/alerts.yaml is a Prometheus rules file: named groups of rules with an alert or record and an expr', () => {
    const document = YAML.parse(readFileSync(path.join(CHART_DIR, 'files/alerts.yaml'), 'utf8'), { uniqueKeys: true }) as Json;
    const groups = document.groups as Json[];
    assert.ok(Array.isArray(groups) && groups.length > 0);
    const names = new Set<string>();
    for (const group of groups) {
      assert.equal(typeof group.name, 'string');
      assert.ok(!names.has(group.name), `duplicate group ${group.name}`);
      names.add(group.name);
      assert.ok(Array.isArray(group.rules) && group.rules.length > 0, `group ${group.name} has no rules`);
      for (const rule of group.rules as Json[]) {
        assert.ok(typeof rule.alert === 'string' || typeof rule.record === 'string', `a rule of ${group.name} has neither alert nor record`);
        assert.ok(String(rule.expr ?? '').trim().length > 0, `${rule.alert ?? rule.record} has no expr`);
      }
    }
  });
});

describe('chart files: tcp-tweaks script (files/tune-sysctls.sh)', () => {
  const script = path.join(CHART_DIR, 'files/tune-sysctls.sh');
  let root: string;

  /** Runs the script as the init container does (sh -c SCRIPT tune-sysctls ARGS...), always against the fake tree. */
  function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
    assert.ok(root && root.startsWith(os.tmpdir()), 'refusing to run without a fake /proc/sys');
    const result = spawnSync('sh', ['-c', readFileSync(script, 'utf8'), 'tune-sysctls', ...args], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, SYSCTL_ROOT: root },
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'kconmon-sysctl-'));
    await mkdir(path.join(root, 'net/core'), { recursive: true });
    await mkdir(path.join(root, 'net/ipv4/a_directory'), { recursive: true });
    await writeFile(path.join(root, 'net/core/somaxconn'), '4096\n');
    await writeFile(path.join(root, 'net/ipv4/tcp_fin_timeout'), '60\n');
    await writeFile(path.join(root, 'net/ipv4/ip_local_port_range'), '32768\t60999\n');
    // A write the kernel refuses (EINVAL on /proc/sys) fails like a write to /dev/full.
    await symlink('/dev/full', path.join(root, 'net/ipv4/tcp_sack'));
  });

  after(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('sets what exists, logs and skips what is missing or refused, and exits 0', async () => {
    const result = run([
      'net.core.somaxconn=32768',
      'net.ipv4.tcp_fin_timeout=30',
      'net.ipv4.ip_local_port_range=1024 65000',
      'net.ipv4.tcp_sack=0',
      'net.ipv4.tcp_not_in_this_kernel=1',
      'net.ipv4.a_directory=1',
    ]);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(await readFile(path.join(root, 'net/core/somaxconn'), 'utf8'), '32768\n');
    assert.equal(await readFile(path.join(root, 'net/ipv4/tcp_fin_timeout'), 'utf8'), '30\n');
    assert.equal(await readFile(path.join(root, 'net/ipv4/ip_local_port_range'), 'utf8'), '1024 65000\n');
    const lines = result.stdout.trim().split('\n');
    assert.deepEqual(lines, [
      'tcp-tweaks: set net.core.somaxconn = 32768',
      'tcp-tweaks: set net.ipv4.tcp_fin_timeout = 30',
      'tcp-tweaks: set net.ipv4.ip_local_port_range = 1024 65000',
      'tcp-tweaks: skipped net.ipv4.tcp_sack: the kernel refused the value 0',
      `tcp-tweaks: skipped net.ipv4.tcp_not_in_this_kernel: not available on this kernel (${root}/net/ipv4/tcp_not_in_this_kernel missing)`,
      'tcp-tweaks: skipped net.ipv4.a_directory: the kernel refused the value 1',
      'tcp-tweaks: 3 applied, 3 skipped',
    ]);
  });

  it('never writes outside the sysctl tree: path-like or malformed names are skipped', async () => {
    const result = run(['../../etc/passwd=x', '/etc/shadow=x', 'net core=1', '=1', 'net.core.=1']);
    assert.equal(result.status, 0);
    assert.equal(result.stdout.match(/not a sysctl name/g)?.length, 5, result.stdout);
    assert.match(result.stdout, /0 applied, 5 skipped/);
  });

  it('an empty list does nothing and exits 0', () => {
    const result = run([]);
    assert.equal(result.status, 0);
    assert.equal(result.stdout, 'tcp-tweaks: 0 applied, 0 skipped\n');
  });

  it('the default list (values.yaml) is the original chart\'s nine sysctls, each a valid name', () => {
    const values = YAML.parse(readFileSync(path.join(CHART_DIR, 'values.yaml'), 'utf8')) as Json;
    const sysctls = (values.tcpTweaks.sysctls as Json[]).map((s) => `${s.name}=${s.value}`);
    assert.deepEqual(sysctls, ORIGINAL_SYSCTLS);
    assert.equal(values.enableTcpTweaks, true);
  });
});

describe('docs/deployment.md', () => {
  // Maps whose keys are the user's (or Kubernetes') own: documented as one value.
  const FREE_FORM = new Set([
    'resources', 'podSecurityContext', 'securityContext', 'readinessProbe', 'livenessProbe', 'dnsConfig', 'updateStrategy',
    'strategy', 'affinity', 'nodeSelector', 'podAnnotations', 'podLabels', 'annotations', 'labels', 'commonLabels', 'alerts',
  ]);

  function leaves(value: Json, prefix: string): string[] {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix];
    const key = prefix.split('.').at(-1) as string;
    if (FREE_FORM.has(key) || Object.keys(value as object).length === 0) return [prefix];
    return Object.entries(value as object).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
  }

  it('documents every value of values.yaml', () => {
    const values = YAML.parse(readFileSync(path.join(CHART_DIR, 'values.yaml'), 'utf8')) as Json;
    const docs = readFileSync(path.join(REPO_ROOT, 'docs/deployment.md'), 'utf8').split('\n');
    const undocumented = leaves(values, '').filter((leaf) => {
      if (docs.some((line) => line.includes(`\`${leaf}\``))) return false;
      // Rows that group values: "`parent.a` / `.b`" or "`parent.*`".
      const parts = leaf.split('.');
      for (let cut = parts.length - 1; cut >= 1; cut--) {
        const parent = parts.slice(0, cut).join('.');
        const rest = parts.slice(cut).join('.');
        if (docs.some((line) => line.includes(`\`${parent}.`) && (line.includes(`\`.${rest}\``) || line.includes(`\`${parent}.*\``)))) return false;
      }
      return true;
    });
    assert.deepEqual(undocumented, []);
  });
});
