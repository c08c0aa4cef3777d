// helm for tests, e2e and benchmarks: the pinned binary (scripts/setup/go-tools.sh), the chart rendered into parsed
// manifests, and the chart's RBAC objects as helm renders them (so the controller runs with exactly what the chart ships).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubernetesObject } from '@kubernetes/client-node';
import YAML from 'yaml';
import { findGoTool } from './kube-cluster.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CHART_DIR = path.join(REPO_ROOT, 'charts/kconmon');

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

function parseManifests(text: string): Manifest[] {
  return YAML.parseAllDocuments(text, { uniqueKeys: true })
    .map((document) => {
      if (document.errors.length > 0) throw new Error(`rendered YAML does not parse: ${document.errors[0]?.message}`);
      return document.toJS() as Manifest | null;
    })
    .filter((manifest): manifest is Manifest => manifest !== null && typeof manifest === 'object');
}

const RBAC_KINDS = new Set(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);

/**
 * The chart's RBAC for a release in a namespace (a release name of its own keeps its cluster-scoped names apart), with
 * chart values set by `setJson` (e.g. `controller.config.events.enabled=true`).
 */
export function renderedRbac(namespace = 'kconmon', release = 'kconmon', setJson: readonly string[] = []): KubernetesObject[] {
  return renderChart({ release, namespace, setJson: [...setJson] }).filter((object) => RBAC_KINDS.has(object.kind)) as KubernetesObject[];
}
