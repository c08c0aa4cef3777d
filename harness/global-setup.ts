// `node --test --test-global-setup=harness/global-setup.ts` (the npm test script): starts the one etcd + kube-apiserver
// the suites share (harness/shared-kube.ts) before the first test file, and stops it after the last. Without the
// binaries it starts nothing and the suites skip as they would alone. The cluster lives in this module between the
// two hooks because the test runner calls them with no context to carry it.
import { findKubeBinaries, startKubeCluster, type KubeCluster } from './kube-cluster.ts';
import { encodeSharedKubeAddress, SHARED_KUBE_ENV } from './shared-kube.ts';

let cluster: KubeCluster | undefined;

export async function globalSetup(): Promise<void> {
  if (process.env[SHARED_KUBE_ENV]) return; // given from outside: use that one
  const binaries = findKubeBinaries();
  if (!binaries.found) return;
  cluster = await startKubeCluster({ binaries: binaries.found });
  process.env[SHARED_KUBE_ENV] = encodeSharedKubeAddress(cluster);
}

export async function globalTeardown(): Promise<void> {
  await cluster?.stop();
  cluster = undefined;
}
