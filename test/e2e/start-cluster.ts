// The cluster an end-to-end suite's scenarios share, started in the suite's `before` hook: e2e/cluster.ts with the
// suite's options, its progress lines stamped with the seconds since the suite started, torn down on SIGINT/SIGTERM
// (Ctrl-C, the runner's) before the process dies; pdeathsig covers whatever is left.
import { startCluster, type Cluster, type ClusterOptions } from '../../e2e/cluster.ts';
import { observer, type Observer } from './observe.ts';

export interface E2eClusterOptions extends Omit<ClusterOptions, 'log'> {
  /** What the "up" line calls the cluster. */
  readonly name: string;
  /** When the suite started (Date.now()). */
  readonly startedAt: number;
  readonly say: (line: string) => void;
}

/** Starts the suite's cluster; resolves with it and an observer of its Prometheus. */
export async function startE2eCluster({ name, startedAt, say, ...options }: E2eClusterOptions): Promise<{ cluster: Cluster; prom: Observer }> {
  const elapsed = () => ((Date.now() - startedAt) / 1000).toFixed(1);
  const cluster = await startCluster({ ...options, log: (line) => say(`[${elapsed()} s] ${line}`) });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      say(`${signal}: tearing the cluster down`);
      void cluster.stop().finally(() => process.exit(130));
    });
  }
  say(`${name} up in ${elapsed()} s; logs in ${cluster.dir}`);
  return { cluster, prom: observer(cluster.prometheus) };
}
