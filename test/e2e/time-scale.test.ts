// The time compression applied to the production alert rules for the miniature cluster (e2e/time-scale.ts): every
// range, subquery and offset in an expression and every `for` is divided exactly, nothing else changes, and the
// result is still a valid rule file for promtool.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { formatDuration, parseDuration, scaleDuration, scalePromqlDurations, scaleRuleFile, scaleRuleFileText } from '../../e2e/time-scale.ts';
import { ALERT_RULES, TIME_SCALE } from '../../e2e/cluster.ts';
import { PROMTOOL_BIN, promtoolUnavailable } from '../../harness/prometheus.ts';
import { skipUnlessAvailable } from '../harness/require.ts';

test('durations: Prometheus syntax parsed and formatted, largest units first', () => {
  assert.equal(parseDuration('5m'), 300_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('90'), 90_000, 'a bare number is seconds');
  assert.throws(() => parseDuration('30s1m'), /units must descend/);
  assert.throws(() => parseDuration('5 minutes'), /not a Prometheus duration/);
  assert.equal(formatDuration(720_000), '12m');
  assert.equal(formatDuration(90_000), '1m30s');
  assert.equal(formatDuration(1500), '1s500ms');
  assert.equal(scaleDuration('5m', 5), '1m');
  assert.equal(scaleDuration('2m', 5), '24s');
  assert.equal(scaleDuration('1h', 5), '12m');
  assert.equal(scaleDuration('1s', 5), '200ms');
  assert.throws(() => scaleDuration('1ms', 5), /not a whole number of milliseconds/);
});

test('expressions: ranges, subqueries and offsets are scaled; strings and comments are not', () => {
  assert.equal(scalePromqlDurations('rate(x[5m])', 5), 'rate(x[1m])');
  assert.equal(scalePromqlDurations('max_over_time(rate(x[1m])[10m:30s])', 5), 'max_over_time(rate(x[12s])[2m:6s])');
  assert.equal(scalePromqlDurations('max_over_time(rate(x[1m])[10m:])', 5), 'max_over_time(rate(x[12s])[2m:])');
  assert.equal(scalePromqlDurations('sum(x offset 10m) - sum(x offset -5m)', 5), 'sum(x offset 2m) - sum(x offset -1m)');
  assert.equal(scalePromqlDurations('x{a=~"[0-9]+m", b=\'[5m]\'}[ 1h ]', 5), 'x{a=~"[0-9]+m", b=\'[5m]\'}[ 12m ]');
  assert.equal(scalePromqlDurations('x[5m] # see [5m]\n', 5), 'x[1m] # see [5m]\n');
  assert.equal(scalePromqlDurations('my_offset_total[5m]', 5), 'my_offset_total[1m]', 'a metric name containing "offset" is not an offset');
  assert.throws(() => scalePromqlDurations('x[5m', 5), /unbalanced/);
});

test('the production rules, time-scaled 5×: every range and `for` divided by 5, everything else identical', () => {
  const original = parse(readFileSync(ALERT_RULES, 'utf8')) as {
    groups: { rules: { alert: string; expr: string; for?: string; labels: unknown; annotations: unknown }[] }[];
  };
  const scaled = scaleRuleFile(original, TIME_SCALE) as unknown as typeof original;
  const originalRules = original.groups.flatMap((group) => group.rules);
  const scaledRules = scaled.groups.flatMap((group) => group.rules);
  assert.equal(originalRules.length, 14);
  assert.equal(scaledRules.length, originalRules.length);
  const ranges = (expr: string) => [...expr.matchAll(/\[(\w+)\]/g)].map((match) => parseDuration(match[1]!));
  const skeleton = (expr: string) => expr.replace(/\[\w+\]/g, '[]');
  const seen = new Map<string, string>();
  originalRules.forEach((rule, index) => {
    const after = scaledRules[index]!;
    assert.equal(after.alert, rule.alert);
    assert.equal(skeleton(after.expr), skeleton(rule.expr), `${rule.alert}: only durations change`);
    assert.deepEqual(
      ranges(after.expr),
      ranges(rule.expr).map((ms) => ms / TIME_SCALE),
      `${rule.alert}: every range divided by ${TIME_SCALE}`,
    );
    assert.equal(parseDuration(after.for!), parseDuration(rule.for!) / TIME_SCALE, `${rule.alert}: for`);
    assert.deepEqual(after.labels, rule.labels);
    assert.deepEqual(after.annotations, rule.annotations);
    for (const match of rule.expr.matchAll(/\[(\w+)\]/g)) seen.set(match[1]!, scaleDuration(match[1]!, TIME_SCALE));
  });
  assert.deepEqual(Object.fromEntries(seen), { '1m': '12s', '2m': '24s', '5m': '1m', '1h': '12m' });
  assert.deepEqual(original, parse(readFileSync(ALERT_RULES, 'utf8')), 'the input is not modified');
});

test('promtool accepts the time-scaled rule file', (t) => {
  if (!skipUnlessAvailable(t, promtoolUnavailable())) return;
  const dir = mkdtempSync(join(tmpdir(), 'kconmon-scaled-rules-'));
  try {
    const file = join(dir, 'alerts.scaled.yaml');
    writeFileSync(file, scaleRuleFileText(readFileSync(ALERT_RULES, 'utf8'), TIME_SCALE));
    const result = spawnSync(PROMTOOL_BIN, ['check', 'rules', file], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
    assert.match(result.stdout, /SUCCESS: 14 rules found/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
