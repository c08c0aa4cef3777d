// Child process for the real-node tear-down tests: starts the node with one running pod (so a sandbox, its network
// namespace, mounts, cgroups and shim exist), prints READY, then either exits at once without stopping anything
// (`exit`: the process-exit hook must restore the host) or waits to be killed (`wait`: SIGKILL, nothing runs; the next
// run's recovery must restore the host). Usage: node test/cluster/node-child.ts exit|wait PAUSE=ARCHIVE BUSYBOX=ARCHIVE
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api } from '@kubernetes/client-node';
import { startRealNode } from './node.ts';

const [mode, pause, busybox] = process.argv.slice(2) as [string, string, string];
const [pauseImage, pauseArchive] = pause.split('=') as [string, string];
const [busyboxImage, busyboxArchive] = busybox.split('=') as [string, string];
const node = await startRealNode({
  images: [
    { name: pauseImage, archive: pauseArchive },
    { name: busyboxImage, archive: busyboxArchive },
  ],
  pauseImage,
});
const core = node.kube.adminKubeConfig().makeApiClient(CoreV1Api);
await core.createNamespacedPod({
  namespace: 'default',
  body: {
    metadata: { name: 'sleeper' },
    spec: { containers: [{ name: 'sleeper', image: busyboxImage, imagePullPolicy: 'Never', command: ['sleep', '3600'] }] },
  },
});
for (;;) {
  const pod = await core.readNamespacedPod({ namespace: 'default', name: 'sleeper' });
  if (pod.status?.containerStatuses?.[0]?.state?.running) break;
  await sleep(250);
}
console.log('READY');
if (mode === 'exit') process.exit(1);
await sleep(600_000);
