// The shipped Grafana dashboard (deploy/grafana/kconmon.json) against real data: a local mesh of 3 agents in 2 zones
// on loopback (1 s intervals, DNS against a loopback resolver, one listed node where nothing listens, so failure
// panels have data) scraped every second by a real Prometheus that also loads deploy/prometheus/alerts.yaml. Every
// panel query (template variables substituted) must parse and return data; every metric it names must exist in an
// agent's exposition; Prometheus must load the alert rules, and on this mesh they must blame only the dead node.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { skipUnlessAvailable } from '../harness/require.ts';
import { startMesh, type Mesh } from '../helpers/mesh.ts';
import {
  PrometheusApiError,
  prometheusUnavailable,
  resultSamples,
  resultValues,
  startPrometheus,
  type Prometheus,
  type PromQueryResult,
} from '../../harness/prometheus.ts';
import { GiveUp, waitUntil } from '../../harness/wait.ts';

const DASHBOARD_FILE = fileURLToPath(new URL('../../deploy/grafana/kconmon.json', import.meta.url));
const RULES_FILE = fileURLToPath(new URL('../../deploy/prometheus/alerts.yaml', import.meta.url));
const dashboardText = readFileSync(DASHBOARD_FILE, 'utf8');

interface Target {
  expr: string;
  refId: string;
  instant?: boolean;
  range?: boolean;
  format?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  type: string;
  name: string;
  query: string | { query: string };
  datasource?: { type?: string; uid?: string };
  allValue?: string;
  includeAll?: boolean;
}
interface Dashboard {
  schemaVersion: number;
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Variable[] };
  annotations: { list: { expr?: string; datasource?: { uid?: string } }[] };
}

/** The dashboard's datasource variable, literally (a Grafana reference, not a template string). */
const DATASOURCE = '$' + '{datasource}';
/** Grafana's interval macros, at values that suit a 1 s scrape and ~20 s of data. */
const MACROS: Record<string, string> = { __rate_interval: '30s', __interval: '2s', __range: '5m', __range_s: '300', __interval_ms: '2000' };

/** Every non-row panel, rows' nested panels included. */
function allPanels(panels: readonly Panel[]): Panel[] {
  return panels.flatMap((panel) => (panel.type === 'row' ? allPanels(panel.panels ?? []) : [panel]));
}

function variableQuery(variable: Variable): string {
  return typeof variable.query === 'string' ? variable.query : variable.query.query;
}

/**
 * Replaces macros by durations and template variables by `.*` (they are only used in regex matchers). `$1` is a
 * label_replace capture group, which Grafana leaves alone (variable names do not start with a digit).
 */
function substitute(expr: string, variables: ReadonlySet<string>): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (match, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    if (/^\d+$/.test(name)) return match;
    if (name in MACROS) return MACROS[name]!;
    if (variables.has(name)) return '.*';
    throw new Error(`unknown variable ${match} in ${expr}`);
  });
}

/** Metric names an expression mentions (including `{__name__=~"kconmon_(tcp|udp)_results_total"}` alternatives). */
function metricNames(expr: string): string[] {
  const names = new Set<string>();
  for (const match of expr.matchAll(/__name__=~"([^"]+)"/g)) {
    const pattern = match[1]!;
    const group = /\(([^()]+)\)/.exec(pattern);
    for (const alternative of group ? group[1]!.split('|') : ['']) names.add(group ? pattern.replace(group[0], alternative) : pattern);
  }
  const plain = expr.replace(/__name__=~"[^"]+"/g, '');
  for (const match of plain.matchAll(/\b((?:kconmon|nodejs|process)_[a-zA-Z0-9_]+)/g)) names.add(match[1]!);
  return [...names];
}

/** Series names an exposition can produce: each family's name, plus _bucket/_sum/_count of histograms and summaries. */
function exposedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const match of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = match as unknown as [string, string, string];
    names.add(name);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(name + suffix);
  }
  for (const line of exposition.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line);
    if (match) names.add(match[1]!);
  }
  return names;
}

const dashboard = JSON.parse(dashboardText) as Dashboard;
const panels = allPanels(dashboard.panels);
const variables = dashboard.templating.list;
const queryVariables = new Set(variables.filter((variable) => variable.type !== 'datasource').map((variable) => variable.name));
const targets = panels.flatMap((panel) =>
  (panel.targets ?? []).map((target) => ({ panel, target, label: `panel ${panel.id} "${panel.title}" ${target.refId}` })),
);

test('the dashboard: valid JSON, schemaVersion ≥ 36, a Prometheus datasource variable and label_values template variables', () => {
  assert.ok(dashboard.schemaVersion >= 36, `schemaVersion ${dashboard.schemaVersion}`);
  assert.ok(dashboard.uid && dashboard.title);
  const datasource = variables.find((variable) => variable.name === 'datasource');
  assert.equal(datasource?.type, 'datasource');
  assert.equal(datasource?.query, 'prometheus');
  for (const name of ['source_zone', 'destination_zone', 'source', 'destination']) {
    const variable = variables.find((candidate) => candidate.name === name);
    assert.ok(variable, `template variable ${name}`);
    assert.equal(variable.type, 'query');
    assert.equal(variable.datasource?.uid, DATASOURCE);
    assert.match(variableQuery(variable), new RegExp(`^label_values\\(.*, ${name}\\)$`));
    assert.equal(variable.allValue, '.*', `${name}: "All" must be a regex matching everything`);
  }
  const ids = panels.map((panel) => panel.id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  // Layout: every panel (rows included) inside the 24-column grid, none overlapping another.
  const boxes = dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]).map((panel) => ({ title: panel.title, ...panel.gridPos }));
  for (const [index, a] of boxes.entries()) {
    assert.ok(a.x >= 0 && a.w > 0 && a.x + a.w <= 24 && a.h > 0 && a.y >= 0, `"${a.title}": gridPos ${JSON.stringify(a)}`);
    for (const b of boxes.slice(index + 1)) {
      const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
      assert.ok(!overlap, `"${a.title}" overlaps "${b.title}"`);
    }
  }
});

test(`the dashboard: every panel and target uses ${DATASOURCE}; the kconmon_ prefix, never node_test_`, () => {
  assert.doesNotMatch(dashboardText, /node_test_/);
  assert.ok(targets.length > 0);
  for (const panel of panels) {
    assert.equal(panel.datasource?.uid, DATASOURCE, `panel ${panel.id} "${panel.title}": datasource`);
    assert.equal(panel.datasource?.type, 'prometheus');
    assert.ok((panel.targets ?? []).length > 0, `panel ${panel.id} "${panel.title}": no query`);
  }
  for (const { target, label } of targets) {
    assert.equal(target.datasource?.uid, DATASOURCE, `${label}: datasource`);
    assert.ok(metricNames(target.expr).some((name) => name.startsWith('kconmon_')) || /\bup\{/.test(target.expr), `${label}: queries no kconmon_ metric`);
    // Template variables only as regex matchers: "All" (.*) and multi-value selections (a|b) both work.
    for (const match of target.expr.matchAll(/\$\{?(\w+)\}?/g)) {
      if (match[1]!.startsWith('__') || /^\d+$/.test(match[1]!)) continue; // a macro, or a label_replace capture group ($1)
      assert.ok(queryVariables.has(match[1]!), `${label}: unknown variable ${match[0]}`);
      assert.equal(target.expr.slice(match.index - 3, match.index), '=~"', `${label}: ${match[0]} must be used as =~"${match[0]}"`);
    }
  }
});

test('the dashboard has the panels the issue asks for', () => {
  const exprs = targets.map(({ target }) => target.expr).join('\n');
  for (const metric of [
    'kconmon_udp_results_total',
    'kconmon_tcp_results_total',
    'kconmon_dns_results_total',
    'kconmon_udp_rtt_seconds_bucket',
    'kconmon_udp_duration_variance_milliseconds',
    'kconmon_udp_packets_sent_total',
    'kconmon_udp_packets_received_total',
    'kconmon_tcp_connect_seconds_bucket',
    'kconmon_tcp_duration_seconds_bucket',
    'kconmon_tcp_failures_total',
    'kconmon_dns_duration_seconds_bucket',
    'kconmon_dns_failures_total',
    'nodejs_eventloop_lag_p99_seconds',
    'nodejs_eventloop_lag_seconds',
    'process_cpu_seconds_total',
    'process_resident_memory_bytes',
    'kconmon_agent_peers',
  ]) {
    assert.ok(exprs.includes(metric), `no panel queries ${metric}`);
  }
  assert.match(exprs, /\bup\{job=~"\$job"\}/);
  const titles = panels.map((panel) => panel.title);
  for (const by of ['source zone', 'destination zone', 'source node', 'destination node']) assert.ok(titles.includes(`UDP loss by ${by}`), `UDP loss by ${by}`);
  for (const by of ['host', 'source zone', 'source node']) assert.ok(titles.includes(`DNS passes and failures by ${by}`), `DNS by ${by}`);
  const matrices = panels.filter((panel) => JSON.stringify(panel).includes('groupingToMatrix'));
  assert.deepEqual(
    matrices.map((panel) => metricNames(panel.targets![0]!.expr).sort()),
    [['kconmon_udp_duration_milliseconds'], ['kconmon_udp_packets_received_total', 'kconmon_udp_packets_sent_total']],
  );
  assert.ok(panels.some((panel) => panel.title.startsWith('Worst pairs') && /topk\(10,/.test(panel.targets![0]!.expr)));
});

// --- Against a live mesh and Prometheus ---

const prometheusMissing = prometheusUnavailable();
let mesh: Mesh | undefined;
let prometheus: Prometheus | undefined;
const started = Date.now();

before(async () => {
  mesh = await startMesh({ agents: 3, zones: 2, unreachablePeers: 1, intervalMs: 1000, dns: { failing: true }, firstHost: 170 });
  if (prometheusMissing) return;
  const dead = mesh.unreachable[0]!;
  prometheus = await startPrometheus({
    // The dead node is a scrape target too, as its agent pod would be: its scrapes fail (up 0).
    jobs: [{ job: 'kconmon', targets: [...mesh.targets(), `${dead.ip}:${mesh.port}`] }],
    ruleFiles: [RULES_FILE],
    scrapeInterval: '1s',
    evaluationInterval: '1s',
  });
});

after(async () => {
  await prometheus?.stop();
  await mesh?.close();
});

test("every metric the dashboard names exists in a real agent's exposition", async (t) => {
  // DNS failure and TCP failure counters appear with their first failure: give the mesh a few rounds.
  let exposition = '';
  await waitUntil(
    'the agent to export DNS and TCP failures',
    15_000,
    async () => {
      exposition = await mesh!.metrics('node-1');
      return (
        /^kconmon_dns_failures_total\{/m.test(exposition) &&
        /^kconmon_tcp_failures_total\{/m.test(exposition) &&
        /^kconmon_dns_duration_seconds_bucket\{/m.test(exposition)
      );
    },
    250,
  );
  const exposed = exposedNames(exposition);
  const used = new Set(targets.flatMap(({ target }) => metricNames(target.expr)));
  for (const variable of variables.filter((candidate) => candidate.type === 'query')) for (const name of metricNames(variableQuery(variable))) used.add(name);
  const missing = [...used].filter((name) => !exposed.has(name));
  assert.deepEqual(missing, [], `not in the agent's /metrics: ${missing.join(', ')}`);
  t.diagnostic(`${used.size} metric names checked: ${[...used].sort().join(', ')}`);
});

test('Prometheus loads the alert rules: both groups, every rule evaluated with health ok', async (t) => {
  if (!skipUnlessAvailable(t, prometheusMissing)) return;
  const file = parse(readFileSync(RULES_FILE, 'utf8')) as { groups: { name: string; rules: { alert?: string; record?: string }[] }[] };
  let groups: Awaited<ReturnType<Prometheus['rules']>>['groups'] = [];
  await waitUntil('every rule group loaded, every rule healthy', 15_000, async (note) => {
    groups = (await prometheus!.rules()).groups;
    const rules = groups.flatMap((group) => group.rules);
    const unhealthy = rules.filter((rule) => rule.health !== 'ok').map((rule) => `${rule.name}: ${rule.health} ${rule.lastError ?? ''}`);
    note(`${groups.length} groups loaded; not ok: ${unhealthy.join('; ') || 'none'}`);
    return groups.length === file.groups.length && unhealthy.length === 0;
  });
  assert.deepEqual(groups.map((group) => group.name).sort(), file.groups.map((group) => group.name).sort());
  for (const group of file.groups) {
    const loaded = groups.find((candidate) => candidate.name === group.name)!;
    assert.deepEqual(
      loaded.rules.map((rule) => rule.name),
      group.rules.map((rule) => rule.alert ?? rule.record),
    );
    for (const rule of loaded.rules) assert.equal(rule.health, 'ok', `${rule.name}: ${rule.health} ${rule.lastError ?? ''}`);
  }
});

test('every panel query parses and returns data from the live mesh', async (t) => {
  if (!skipUnlessAvailable(t, prometheusMissing)) return;
  const outcome = new Map<string, string>();
  const run = async (expr: string, instant: boolean): Promise<PromQueryResult> => {
    const now = Date.now() / 1000;
    return instant ? prometheus!.query(expr, now) : prometheus!.queryRange(expr, now - 30, now, 2);
  };
  const check = async () => {
    await Promise.all(
      targets.map(async ({ target, label }) => {
        if (outcome.get(label) === 'ok') return;
        const expr = substitute(target.expr, queryVariables);
        try {
          const result = await run(expr, target.instant === true);
          const samples = resultSamples(result);
          const finite = resultValues(result).filter((value) => Number.isFinite(value));
          outcome.set(label, samples.length === 0 ? `no data: ${expr}` : finite.length === 0 ? `only NaN/Inf: ${expr}` : 'ok');
        } catch (error) {
          // A parse error will not heal: fail at once.
          if (error instanceof PrometheusApiError && error.errorType === 'bad_data') throw new GiveUp(`${label} does not parse: ${error.detail}\n${expr}`);
          outcome.set(label, `error: ${(error as Error).message}`);
        }
      }),
    );
    return [...outcome.values()].every((value) => value === 'ok') && outcome.size === targets.length;
  };
  // Rates need two samples in their window and failure counters a first failure: poll, bounded by the time budget.
  const budget = Math.max(10_000, 45_000 - (Date.now() - started));
  await waitUntil(
    'data from every panel query',
    budget,
    async (note) => {
      const complete = await check();
      note(
        [...outcome.entries()]
          .filter(([, value]) => value !== 'ok')
          .map(([label, value]) => `${label}: ${value}`)
          .join('; '),
      );
      return complete;
    },
    1000,
  );
  t.diagnostic(`${targets.length} queries of ${panels.length} panels returned data after ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

test('template variable and annotation queries work on the live mesh', async (t) => {
  if (!skipUnlessAvailable(t, prometheusMissing)) return;
  const expected: Record<string, string[]> = {
    job: ['kconmon'],
    source_zone: ['zone-a', 'zone-b'],
    destination_zone: ['zone-a', 'zone-b'],
    source: ['node-1', 'node-2', 'node-3'],
    destination: ['node-1', 'node-2', 'node-3', 'node-4'],
  };
  for (const variable of variables.filter((candidate) => candidate.type === 'query')) {
    const match = /^label_values\((.+), (\w+)\)$/.exec(variableQuery(variable));
    assert.ok(match, `${variable.name}: label_values(selector, label)`);
    let values: string[] = [];
    await waitUntil(`${variable.name}'s values`, 15_000, async (note) => {
      values = await prometheus!.labelValues(match[2]!, [substitute(match[1]!, queryVariables)]);
      note(`got ${JSON.stringify(values)}, want ${JSON.stringify(expected[variable.name])}`);
      return JSON.stringify(values) === JSON.stringify(expected[variable.name]);
    });
    assert.deepEqual(values, expected[variable.name], variable.name);
  }
  for (const annotation of dashboard.annotations.list.filter((candidate) => candidate.expr)) {
    assert.equal(annotation.datasource?.uid, DATASOURCE);
    await prometheus!.query(substitute(annotation.expr!, queryVariables)); // parses (alerts may not be firing yet)
  }
});

test('the alert rules on the live mesh blame only the dead node-4 (pending: `for` is 2m)', async (t) => {
  if (!skipUnlessAvailable(t, prometheusMissing)) return;
  const dead = mesh!.unreachable[0]!;
  const expected = [
    `KconmonAgentDown instance=${dead.ip}:${mesh!.port}`,
    'KconmonAgentNotReporting destination=node-4 destination_zone=zone-b',
    'KconmonDNSFailuresClusterWide host=missing',
    'KconmonDestinationUDPPacketLoss destination=node-4 destination_zone=zone-b',
    'KconmonDestinationUnreachable destination=node-4 destination_zone=zone-b',
    'KconmonInterZoneTCPFailure source_zone=zone-a destination_zone=zone-b',
  ];
  const describe = (alert: { labels: Record<string, string> }) => {
    const { alertname, severity: _severity, job: _job, ...rest } = alert.labels;
    const order = ['instance', 'source', 'destination', 'host', 'source_zone', 'destination_zone'];
    return [alertname, ...order.filter((key) => key in rest).map((key) => `${key}=${rest[key]}`)].join(' ');
  };
  let active: string[] = [];
  await waitUntil('the expected alerts to be active', 20_000, async (note) => {
    const { alerts } = await prometheus!.api<{ alerts: { labels: Record<string, string>; state: string }[] }>('alerts');
    active = alerts.map(describe).sort();
    note(`missing: ${expected.filter((alert) => !active.includes(alert)).join('; ')}; active: ${active.join('; ')}`);
    return expected.every((alert) => active.includes(alert));
  });
  // Majority rules: no healthy node is blamed, as source or destination, and no per-node DNS alert for `missing`.
  const blamed = active.filter((alert) => /^Kconmon(Destination|Source)/.test(alert) && !/=node-4\b/.test(alert));
  assert.deepEqual(blamed, []);
  assert.deepEqual(
    active.filter((alert) => alert.startsWith('KconmonDNSFailures ')),
    [],
  );
  assert.deepEqual(
    active.filter((alert) => alert.startsWith('KconmonAgentsAbsent')),
    [],
  );
});
