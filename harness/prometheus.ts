// A real Prometheus server for tests, e2e and benchmarks, on a free loopback port: writes its config (scrape jobs, rule files, intervals),
// starts /usr/bin/prometheus with a temporary TSDB, waits until it is ready, and answers PromQL queries through its
// HTTP API. Stopping it (or the test process exiting) kills it and removes its files.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { freePort } from './ports.ts';
import { GiveUp, waitUntil } from './wait.ts';

const PROMETHEUS_BIN = process.env.KCONMON_PROMETHEUS ?? '/usr/bin/prometheus';
export const PROMTOOL_BIN = process.env.KCONMON_PROMTOOL ?? '/usr/bin/promtool';

/** Why Prometheus cannot run here, or undefined when it can. */
export function prometheusUnavailable(): string | undefined {
  return existsSync(PROMETHEUS_BIN) ? undefined : `Prometheus not installed (${PROMETHEUS_BIN}); install the Debian package prometheus`;
}

/** Why promtool cannot run here, or undefined when it can. */
export function promtoolUnavailable(): string | undefined {
  return existsSync(PROMTOOL_BIN) ? undefined : `promtool not installed (${PROMTOOL_BIN}); install the Debian package prometheus`;
}

export interface ScrapeJob {
  readonly job: string;
  /** `host:port` of each target. */
  readonly targets: readonly string[];
  readonly metricsPath?: string;
  /** Labels added to every target of the job. */
  readonly labels?: Readonly<Record<string, string>>;
  readonly scrapeInterval?: string;
  /** Raw `metric_relabel_configs` entries (e.g. the original kconmon's `labeldrop` of instance and pod). */
  readonly metricRelabelConfigs?: readonly Record<string, unknown>[];
  readonly honorLabels?: boolean;
}

export interface PrometheusOptions {
  readonly jobs: readonly ScrapeJob[];
  /** Absolute paths of rule files to load. */
  readonly ruleFiles?: readonly string[];
  /** Global scrape interval (default 1s). */
  readonly scrapeInterval?: string;
  /** Rule evaluation interval (default 1s). */
  readonly evaluationInterval?: string;
  /** Loopback address to listen on (default 127.0.0.1). */
  readonly address?: string;
  /** How long to wait for /-/ready (default 30 s). */
  readonly readyTimeoutMs?: number;
  /** Extra command-line flags. */
  readonly args?: readonly string[];
  /** Scrape configs used as written (e.g. kubernetes_sd_configs jobs), after the static `jobs`. */
  readonly rawScrapeConfigs?: readonly Record<string, unknown>[];
  /** Another Prometheus binary (default PROMETHEUS_BIN), e.g. one built with Kubernetes discovery. */
  readonly binary?: string;
}

export interface PromSample {
  readonly metric: Record<string, string>;
  /** Instant queries: [time, value]. */
  readonly value?: [number, string];
  /** Range queries: [[time, value], …]. */
  readonly values?: [number, string][];
}

export interface PromQueryResult {
  readonly resultType: 'vector' | 'matrix' | 'scalar' | 'string';
  readonly result: PromSample[] | [number, string];
}

/** A Prometheus HTTP API error (`status: error`), e.g. a PromQL parse error. */
export class PrometheusApiError extends Error {
  readonly path: string;
  readonly httpStatus: number;
  readonly errorType: string;
  readonly detail: string;
  constructor(path: string, httpStatus: number, errorType: string, detail: string) {
    super(`Prometheus ${path}: HTTP ${httpStatus} ${errorType}: ${detail}`);
    this.name = 'PrometheusApiError';
    this.path = path;
    this.httpStatus = httpStatus;
    this.errorType = errorType;
    this.detail = detail;
  }
}

export interface Prometheus {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Directory holding prometheus.yml and the TSDB. */
  readonly dir: string;
  /** GET (or POST with a form body) on `/api/v1/<path>`; returns `data`, throws PrometheusApiError on errors. */
  api<T = unknown>(path: string, params?: Record<string, string | readonly string[]>): Promise<T>;
  /** Instant query (at `time`, seconds since the epoch, default now). */
  query(expr: string, time?: number): Promise<PromQueryResult>;
  /** Range query from `start` to `end` (seconds since the epoch) every `step` seconds. */
  queryRange(expr: string, start: number, end: number, step: number): Promise<PromQueryResult>;
  /** Sorted values of a label, optionally among the series matching selectors (as Grafana's `label_values`). */
  labelValues(label: string, match?: readonly string[]): Promise<string[]>;
  /** Loaded rule groups (GET /api/v1/rules). */
  rules(): Promise<{ groups: RuleGroup[] }>;
  /** Active targets with their health (GET /api/v1/targets). */
  targets(): Promise<{ activeTargets: { labels: Record<string, string>; health: string; lastError: string; scrapeUrl: string }[] }>;
  /** Asks Prometheus to reload its configuration (needs --web.enable-lifecycle, which is always set). */
  reload(): Promise<void>;
  /** The last lines Prometheus logged (for failure messages). */
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

export interface RuleGroup {
  readonly name: string;
  readonly file: string;
  readonly rules: { name: string; type: 'alerting' | 'recording'; health: string; lastError?: string; state?: string; query: string }[];
}

/** The prometheus.yml for these options (exported for tests that only need the file). */
function prometheusConfig(options: PrometheusOptions): Record<string, unknown> {
  return {
    global: {
      scrape_interval: options.scrapeInterval ?? '1s',
      scrape_timeout: '1s',
      evaluation_interval: options.evaluationInterval ?? '1s',
    },
    ...(options.ruleFiles && options.ruleFiles.length > 0 ? { rule_files: [...options.ruleFiles] } : {}),
    scrape_configs: options.jobs
      .map(
        (job): Record<string, unknown> => ({
          job_name: job.job,
          ...(job.scrapeInterval ? { scrape_interval: job.scrapeInterval } : {}),
          ...(job.metricsPath ? { metrics_path: job.metricsPath } : {}),
          ...(job.honorLabels !== undefined ? { honor_labels: job.honorLabels } : {}),
          static_configs: [{ targets: [...job.targets], ...(job.labels ? { labels: { ...job.labels } } : {}) }],
          ...(job.metricRelabelConfigs ? { metric_relabel_configs: [...job.metricRelabelConfigs] } : {}),
        }),
      )
      .concat(options.rawScrapeConfigs ?? []),
  };
}

const MAX_LOG = 64 * 1024;

/** Starts Prometheus; retries on another port if the chosen one was taken meanwhile (up to 5 attempts). */
export async function startPrometheus(options: PrometheusOptions): Promise<Prometheus> {
  const address = options.address ?? '127.0.0.1';
  if (!address.startsWith('127.')) throw new Error(`startPrometheus: ${address} is not a loopback address`);
  const dir = await mkdtemp(join(tmpdir(), 'kconmon-prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(configFile, toYaml(prometheusConfig(options)));
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort(address);
    try {
      return await launch({ options, address, port, dir, configFile });
    } catch (error) {
      lastError = error;
      if (!(error instanceof Error && /address already in use/i.test(error.message))) break;
    }
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError;
}

async function launch(setup: { options: PrometheusOptions; address: string; port: number; dir: string; configFile: string }): Promise<Prometheus> {
  const { options, address, port, dir, configFile } = setup;
  const url = `http://${address}:${port}`;
  const child: ChildProcess = spawn(
    options.binary ?? PROMETHEUS_BIN,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, `data-${port}`)}`,
      `--web.listen-address=${address}:${port}`,
      '--web.enable-lifecycle',
      '--log.level=warn',
      ...(options.args ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  const append = (chunk: Buffer) => {
    log += chunk.toString();
    if (log.length > MAX_LOG) log = log.slice(-MAX_LOG);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // Never leave a Prometheus behind, even if the test process ends without calling stop().
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const logTail = (lines = 20) => log.trim().split('\n').slice(-lines).join('\n');

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  // Wait for /-/ready, or for the process to die (bad config, port taken).
  try {
    await waitUntil('prometheus to be ready', options.readyTimeoutMs ?? 30_000, async () => {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new GiveUp(`prometheus exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${logTail()}`);
      }
      return (await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) })).ok;
    });
  } catch (error) {
    process.off('exit', killOnExit);
    child.kill('SIGKILL');
    await exited;
    throw error instanceof GiveUp ? error : new Error(`${(error as Error).message}:\n${logTail()}`);
  }

  async function api<T>(path: string, params: Record<string, string | readonly string[]> = {}): Promise<T> {
    const body = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      for (const item of typeof value === 'string' ? [value] : value) body.append(key, item);
    }
    const hasParams = [...body.keys()].length > 0;
    const response = await fetch(`${url}/api/v1/${path}`, {
      method: hasParams ? 'POST' : 'GET',
      ...(hasParams ? { body, headers: { 'content-type': 'application/x-www-form-urlencoded' } } : {}),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    let parsed: { status: string; data?: T; errorType?: string; error?: string };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      throw new PrometheusApiError(path, response.status, 'invalid_json', text.slice(0, 200));
    }
    if (parsed.status !== 'success') throw new PrometheusApiError(path, response.status, parsed.errorType ?? 'unknown', parsed.error ?? text.slice(0, 200));
    return parsed.data as T;
  }

  return {
    url,
    port,
    dir,
    api,
    query: (expr, time) => api<PromQueryResult>('query', { query: expr, ...(time !== undefined ? { time: String(time) } : {}) }),
    queryRange: (expr, start, end, step) => api<PromQueryResult>('query_range', { query: expr, start: String(start), end: String(end), step: String(step) }),
    labelValues: async (label, match = []) => {
      const values = await api<string[]>(
        `label/${encodeURIComponent(label)}/values${match.length > 0 ? `?${match.map((m) => `match[]=${encodeURIComponent(m)}`).join('&')}` : ''}`,
      );
      return [...values].sort();
    },
    rules: () => api<{ groups: RuleGroup[] }>('rules'),
    targets: () => api('targets'),
    reload: async () => {
      const response = await fetch(`${url}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
      if (!response.ok) throw new Error(`prometheus reload: HTTP ${response.status} ${await response.text()}`);
    },
    logTail,
    stop,
  };
}

/** Samples of an instant or range result (empty for scalars and strings). */
export function resultSamples(result: PromQueryResult): PromSample[] {
  return result.resultType === 'vector' || result.resultType === 'matrix' ? (result.result as PromSample[]) : [];
}

/** Every value of a result as a number (NaN and ±Inf included). */
export function resultValues(result: PromQueryResult): number[] {
  if (result.resultType === 'scalar') return [Number((result.result as [number, string])[1])];
  return resultSamples(result).flatMap((sample) => (sample.values ?? (sample.value ? [sample.value] : [])).map(([, value]) => Number(value)));
}
