// Helpers for the chart tests: the fixtures, finding rendered objects, the rendered kconmon config files, and the
// Prometheus Operator CRDs (scripts/setup/prometheus-operator-crds.sh). helm itself and rendering are
// harness/helm.ts, re-exported here for the chart tests (and test/cluster).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { toolsBinDir } from '../../harness/kube-cluster.ts';
import { REPO_ROOT, type Manifest } from '../../harness/helm.ts';

export { CHART_DIR, REPO_ROOT, helm, helmMissing, renderChart, renderChartError, type Manifest } from '../../harness/helm.ts';

export const FIXTURES_DIR = path.join(REPO_ROOT, 'test/fixtures/chart');
export const ALL_OPTIONS = path.join(FIXTURES_DIR, 'all-options.yaml');
export const PODMONITOR = path.join(FIXTURES_DIR, 'podmonitor.yaml');
export const TLS = path.join(FIXTURES_DIR, 'tls.yaml');

export function findManifest(manifests: Manifest[], kind: string, predicate: (m: Manifest) => boolean = () => true): Manifest {
  const found = manifests.filter((m) => m.kind === kind && predicate(m));
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}: ${found.map((m) => m.metadata.name).join(', ')}`);
  return found[0] as Manifest;
}

export function byComponent(component: 'agent' | 'controller'): (m: Manifest) => boolean {
  return (m) => m.metadata.labels?.component === component;
}

/** The `config.yaml` of the agent's or the controller's ConfigMap, parsed. */
export function renderedConfig(manifests: Manifest[], component: 'agent' | 'controller'): unknown {
  const configMap = findManifest(manifests, 'ConfigMap', (m) => byComponent(component)(m) && m.data?.['config.yaml'] !== undefined);
  return YAML.parse(configMap.data['config.yaml'] as string, { uniqueKeys: true });
}

/** The `# expect: ...` lines at the top of a bad-values fixture. */
export function expectedMessages(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('# expect: '))
    .map((line) => line.slice('# expect: '.length));
}

export function badFixtures(): string[] {
  const dir = path.join(FIXTURES_DIR, 'bad');
  return readdirSync(dir)
    .filter((name) => name.endsWith('.yaml'))
    .sort()
    .map((name) => path.join(dir, name));
}

/** Where scripts/setup/prometheus-operator-crds.sh puts the CRDs. */
export function prometheusOperatorCrdsDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(path.dirname(toolsBinDir(env)), 'prometheus-operator-crds');
}

export const PROMETHEUS_OPERATOR_CRDS = [
  'monitoring.coreos.com_servicemonitors.yaml',
  'monitoring.coreos.com_podmonitors.yaml',
  'monitoring.coreos.com_prometheusrules.yaml',
] as const;

/** Why the CRDs cannot be used, or undefined when they can. */
export function prometheusOperatorCrdsMissing(): string | undefined {
  const dir = prometheusOperatorCrdsDir();
  const missing = PROMETHEUS_OPERATOR_CRDS.filter((name) => !existsSync(path.join(dir, name)));
  return missing.length === 0 ? undefined : `Prometheus Operator CRDs missing in ${dir} (${missing.join(', ')}); run scripts/setup/prometheus-operator-crds.sh`;
}

/** The original chart's TCP sysctls, the default of `tcpTweaks.sysctls`. */
export const ORIGINAL_SYSCTLS = [
  'net.core.somaxconn=32768',
  'net.ipv4.tcp_fin_timeout=60',
  'net.ipv4.tcp_keepalive_time=30',
  'net.ipv4.tcp_keepalive_intvl=30',
  'net.ipv4.tcp_keepalive_probes=3',
  'net.ipv4.tcp_window_scaling=1',
  'net.ipv4.tcp_max_syn_backlog=3240000',
  'net.ipv4.tcp_timestamps=0',
  'net.ipv4.tcp_sack=0',
];
