// One kube-apiserver for a whole test run: harness/global-setup.ts starts it before the first test file and passes its
// address to every test process in KCONMON_SHARED_KUBE; a suite that can share it (each test in its own namespace,
// cluster-scoped objects under names of its own) asks for it here. Run alone (no global setup), the suite starts and
// stops a cluster of its own instead. Suites that restart or stop the apiserver keep their own (startKubeCluster).
import { connectKubeApi, startKubeCluster, type KubeApi, type KubeApiAddress } from './kube-cluster.ts';

export const SHARED_KUBE_ENV = 'KCONMON_SHARED_KUBE';

export interface SharedKubeApi {
  readonly api: KubeApi;
  /** True if the run's shared apiserver is used, false if this process started its own. */
  readonly shared: boolean;
  /** Stops the apiserver if this process started it; the shared one is stopped by the global teardown. */
  release(): Promise<void>;
}

/** The address in KCONMON_SHARED_KUBE, or undefined when it is not set; throws one line naming what is wrong. */
export function sharedKubeAddress(env: NodeJS.ProcessEnv = process.env): KubeApiAddress | undefined {
  const raw = env[SHARED_KUBE_ENV];
  if (raw === undefined || raw === '') return undefined;
  let parsed: Partial<Record<keyof KubeApiAddress, unknown>>;
  try {
    parsed = JSON.parse(raw) as typeof parsed;
  } catch {
    throw new Error(`${SHARED_KUBE_ENV} is not JSON`);
  }
  const { server, adminToken, caPem } = parsed ?? {};
  if (typeof server !== 'string' || typeof adminToken !== 'string' || typeof caPem !== 'string') {
    throw new Error(`${SHARED_KUBE_ENV} must be JSON with the strings server, adminToken and caPem`);
  }
  return { server, adminToken, caPem };
}

export function encodeSharedKubeAddress(address: KubeApiAddress): string {
  return JSON.stringify({ server: address.server, adminToken: address.adminToken, caPem: address.caPem });
}

/** The run's shared apiserver if there is one, else one started for this process. */
export async function acquireKubeApi(env: NodeJS.ProcessEnv = process.env): Promise<SharedKubeApi> {
  const address = sharedKubeAddress(env);
  if (address) return { api: connectKubeApi(() => address), shared: true, release: async () => {} };
  const cluster = await startKubeCluster();
  return { api: cluster, shared: false, release: () => cluster.stop() };
}
