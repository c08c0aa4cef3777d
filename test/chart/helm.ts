// Helpers for the chart tests: the pinned helm binary (scripts/setup/go-tools.sh), rendering the chart into parsed
// manifests, the rendered kconmon config files, and the Prometheus Operator CRDs (scripts/setup/prometheus-operator-crds.sh).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { findGoTool, toolsBinDir } from '../harness/kube-cluster.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CHART_DIR = path.join(REPO_ROOT, 'charts/kconmon');
export const FIXTURES_DIR = path.join(REPO_ROOT, 'test/fixtures/chart');
export const ALL_OPTIONS = path.join(FIXTURES_DIR, 'all-options.yaml');
export const PODMONITOR = path.join(FIXTURES_DIR, 'podmonitor.yaml');
export const TLS = path.join(FIXTURES_DIR, 'tls.yaml');

/** A Kubernetes object as rendered (loosely typed: tests index into it). */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects of every kind, indexed freely by the assertions
  [key: string]: any;
}

const helmLookup = findGoTool('helm', 'KCONMON_HELM');
/** Why helm cannot be used, or undefined when it can. */
export const helmMissing: string | undefined = helmLookup.reason;

export interface HelmResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function helm(args: string[], env: NodeJS.ProcessEnv = {}): HelmResult {
  if (helmLookup.path === undefined) throw new Error(helmLookup.reason);
  const result = spawnSync(helmLookup.path, args, {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    // No repository or registry access, no user config: a fresh helm home per call site is not needed for templating.
    env: { ...process.env, HELM_NO_PLUGINS: '1', ...env },
  });
  if (result.error) throw result.error;
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

export interface RenderOptions {
  release?: string;
  namespace?: string;
  valuesFiles?: string[];
  /** --set-json pairs, e.g. 'config.port=9000'. */
  setJson?: string[];
}

function templateArgs(options: RenderOptions): string[] {
  const args = ['template', options.release ?? 'test', CHART_DIR, '--namespace', options.namespace ?? 'monitoring'];
  for (const file of options.valuesFiles ?? []) args.push('--values', file);
  for (const pair of options.setJson ?? []) args.push('--set-json', pair);
  return args;
}

/** `helm template`, throwing with helm's stderr on failure. */
export function renderChart(options: RenderOptions = {}): Manifest[] {
  const result = helm(templateArgs(options));
  if (result.status !== 0) throw new Error(`helm template failed (${result.status}):\n${result.stderr}`);
  return parseManifests(result.stdout);
}

/** `helm template` expected to fail: returns helm's stderr. */
export function renderChartError(options: RenderOptions): string {
  const result = helm(templateArgs(options));
  if (result.status === 0) throw new Error('helm template succeeded, but failure was expected');
  return result.stderr;
}

export function parseManifests(text: string): Manifest[] {
  return YAML.parseAllDocuments(text, { uniqueKeys: true })
    .map((document) => {
      if (document.errors.length > 0) throw new Error(`rendered YAML does not parse: ${document.errors[0]?.message}`);
      return document.toJS() as Manifest | null;
    })
    .filter((manifest): manifest is Manifest => manifest !== null && typeof manifest === 'object');
}

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
