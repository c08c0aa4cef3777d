// A test file's hold on the run's shared kube-apiserver (harness/shared-kube.ts): acquired before the file's tests,
// released after them, not acquired at all when `unavailable` names why the suite cannot run here.
import { after, before } from 'node:test';
import { acquireKubeApi, type SharedKubeApi } from '../../harness/shared-kube.ts';

/** Registers the file's before/after hooks; the returned function gives the held API (throws if it is not held). */
export function holdSharedKubeApi(unavailable: string | undefined): () => SharedKubeApi['api'] {
  let kube: SharedKubeApi | undefined;
  before(async () => {
    if (unavailable) return;
    kube = await acquireKubeApi();
  });
  after(async () => {
    await kube?.release();
  });
  return () => {
    if (!kube) throw new Error(`the shared kube-apiserver is not held${unavailable ? ` (${unavailable})` : ''}`);
    return kube.api;
  };
}
