// The shipped alert rules (deploy/prometheus/alerts.yaml): promtool accepts them without a warning, and their unit
// tests (deploy/prometheus/alerts.test.yaml) pass and cover every alert both firing and staying silent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { skipUnlessAvailable } from '../harness/require.ts';
import { PROMTOOL_BIN, promtoolUnavailable } from '../../harness/prometheus.ts';

const RULES = fileURLToPath(new URL('../../deploy/prometheus/alerts.yaml', import.meta.url));
const RULE_TESTS = fileURLToPath(new URL('../../deploy/prometheus/alerts.test.yaml', import.meta.url));

interface RuleFile {
  groups: {
    name: string;
    rules: { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }[];
  }[];
}
interface RuleTestFile {
  rule_files: string[];
  tests: {
    name: string;
    alert_rule_test?: {
      eval_time: string;
      alertname: string;
      exp_alerts: { exp_labels?: Record<string, string>; exp_annotations?: Record<string, string> }[];
    }[];
  }[];
}

const rules = parse(readFileSync(RULES, 'utf8')) as RuleFile;
const ruleTests = parse(readFileSync(RULE_TESTS, 'utf8')) as RuleTestFile;
const alerts = rules.groups.flatMap((group) => group.rules.filter((rule) => rule.alert !== undefined));

function promtool(args: string[]) {
  const result = spawnSync(PROMTOOL_BIN, args, { encoding: 'utf8', timeout: 60_000, cwd: fileURLToPath(new URL('../../deploy/prometheus/', import.meta.url)) });
  return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}`, error: result.error };
}

test('promtool check rules: valid, no warnings', (t) => {
  if (!skipUnlessAvailable(t, promtoolUnavailable())) return;
  const { status, output, error } = promtool(['check', 'rules', RULES]);
  assert.equal(error, undefined);
  assert.equal(status, 0, output);
  assert.match(output, new RegExp(`SUCCESS: ${rules.groups.reduce((count, group) => count + group.rules.length, 0)} rules found`));
  assert.doesNotMatch(output, /warn/i, output);
});

test('promtool test rules: every scenario passes', (t) => {
  if (!skipUnlessAvailable(t, promtoolUnavailable())) return;
  const { status, output, error } = promtool(['test', 'rules', RULE_TESTS]);
  assert.equal(error, undefined);
  assert.equal(status, 0, output);
  assert.match(output, /SUCCESS/);
});

test('the unit tests cover every alert, firing (with exact labels and annotations) and not firing', () => {
  assert.deepEqual(ruleTests.rule_files, ['alerts.yaml']);
  const cases = ruleTests.tests.flatMap((group) => group.alert_rule_test ?? []);
  for (const alert of alerts) {
    const name = alert.alert!;
    const mine = cases.filter((entry) => entry.alertname === name);
    assert.ok(
      mine.some((entry) => entry.exp_alerts.length > 0),
      `${name}: no test case where it fires`,
    );
    assert.ok(
      mine.some((entry) => entry.exp_alerts.length === 0),
      `${name}: no test case where it must not fire`,
    );
    for (const entry of mine) {
      for (const expected of entry.exp_alerts) {
        assert.equal(expected.exp_labels?.severity, alert.labels?.severity, `${name} at ${entry.eval_time}: severity`);
        assert.deepEqual(Object.keys(expected.exp_annotations ?? {}).sort(), ['description', 'summary'], `${name} at ${entry.eval_time}: exact annotations`);
      }
    }
  }
  const known = new Set(alerts.map((alert) => alert.alert));
  for (const entry of cases) assert.ok(known.has(entry.alertname), `test case for unknown alert ${entry.alertname}`);
});

test('the required alerts exist, with production durations, severities and annotations', () => {
  const names = alerts.map((alert) => alert.alert);
  for (const required of [
    'KconmonInterZoneTCPFailure',
    'KconmonDestinationUnreachable',
    'KconmonSourceCannotReachPeers',
    'KconmonDestinationUDPPacketLoss',
    'KconmonSourceUDPPacketLoss',
    'KconmonDNSFailures',
    'KconmonDNSFailuresClusterWide',
    'KconmonAgentDown',
    'KconmonAgentNotReporting',
    'KconmonAgentsAbsent',
    'KconmonIntraZonePairFailure',
    'KconmonAgentsLostController',
    'KconmonAgentLostController',
    'KconmonControllerDown',
  ]) {
    assert.ok(names.includes(required), `missing alert ${required}`);
  }
  assert.equal(new Set(names).size, names.length, 'alert names are unique');
  for (const alert of alerts) {
    assert.match(alert.for ?? '', /^[12]m$/, `${alert.alert}: for 1m or 2m`);
    assert.deepEqual(Object.keys(alert.labels ?? {}), ['severity'], `${alert.alert}: labels are only the severity (the original put "for" there)`);
    assert.match(alert.labels!.severity!, /^(warning|critical)$/);
    assert.ok(alert.annotations?.summary && alert.annotations.description, `${alert.alert}: summary and description`);
    // The original kconmon scrape config drops instance and pod: rules must not depend on them.
    assert.doesNotMatch(alert.expr, /\b(instance|pod)\b/, `${alert.alert}: must not use instance or pod`);
  }
  const interZone = alerts.find((alert) => alert.alert === 'KconmonInterZoneTCPFailure')!;
  // The original's expression, with the sources that lost the controller (a stale peer list) left out.
  const original = /sum by \(source_zone, destination_zone\) \(\s*increase\(kconmon_tcp_results_total\{result="fail"\}\[1m\]\)\s+/;
  const lostController = /unless on \(source\) \(min_over_time\(kconmon_agent_controller_connected\[1m\]\) == 0\)\s*\) > 0/;
  assert.match(interZone.expr, new RegExp(original.source + lostController.source));
  assert.equal(interZone.for, '2m');
  assert.equal(interZone.labels!.severity, 'warning');
});

test('node, pair and zone verdicts leave out sources that lost the controller; "unreachable" needs every protocol to fail', () => {
  const connectivity = rules.groups.find((group) => group.name === 'kconmon.connectivity')!.rules.filter((rule) => rule.alert !== undefined);
  for (const alert of connectivity) {
    if (/DNS/.test(alert.alert!)) continue;
    const leftOut = /unless on \(source\) \(min_over_time\(kconmon_agent_controller_connected\[\w+\]\) == 0\)/;
    assert.match(alert.expr, leftOut, `${alert.alert}: sources that lost the controller are left out`);
  }
  for (const name of ['KconmonDestinationUnreachable', 'KconmonSourceCannotReachPeers']) {
    const expr = alerts.find((alert) => alert.alert === name)!.expr;
    // A pair with a healthy protocol (fewer than half of its tests failing) is never a failing pair.
    for (const kind of ['tcp', 'udp']) {
      const healthy =
        `unless on \\(source, destination\\)\\s*\\(\\s*sum by \\(source, destination\\) ` +
        `\\(increase\\(kconmon_${kind}_results_total\\{result="fail"\\}\\[2m\\]\\)\\)[^<]*< 0\\.5`;
      assert.match(expr, new RegExp(healthy), `${name}: ${kind} healthy → not failing`);
    }
  }
});
