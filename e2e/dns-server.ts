// The cluster's DNS server: unbound in its own network namespace on the bridge (198.18.0.53:53), answering the cluster
// name kubernetes.default.svc.cluster.local with a service address (198.19.0.1, never routed) and forwarding every
// other name to a closed port on its own loopback, so it never recurses anywhere (as test/helpers/test-resolvers.ts).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Resolver } from 'node:dns/promises';
import { startLoggedProcess, type LoggedProcess } from '../harness/logged-process.ts';
import { GiveUp, waitUntil } from '../harness/wait.ts';
import { unboundConfig } from '../harness/unbound-config.ts';

export const CLUSTER_DNS_NAME = 'kubernetes.default.svc.cluster.local';
const CLUSTER_DNS_ANSWER = '198.19.0.1';
export const UNBOUND_BIN = '/usr/sbin/unbound';
/** Nothing listens on this port in the DNS namespace's loopback: forwarded queries fail at once, locally. */
const CLOSED_PORT = 5399;

export interface DnsServer {
  readonly address: string;
  readonly child: () => LoggedProcess | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createDnsServer(options: {
  namespace: string;
  address: string;
  subnet: string;
  dir: string;
  onStart?: (child: LoggedProcess) => void;
}): DnsServer {
  const configFile = join(options.dir, 'unbound.conf');
  writeFileSync(
    configFile,
    unboundConfig({
      address: options.address,
      port: 53,
      dir: options.dir,
      logFile: '',
      allow: [options.subnet, '127.0.0.0/8'],
      localZones: ['local-zone: "cluster.local." static', `local-data: "${CLUSTER_DNS_NAME}. 5 IN A ${CLUSTER_DNS_ANSWER}"`],
      closedPort: CLOSED_PORT,
    }),
  );
  let child: LoggedProcess | undefined;
  return {
    address: options.address,
    child: () => child,
    async start() {
      if (child?.running()) return;
      child = startLoggedProcess('unbound', 'ip', ['netns', 'exec', options.namespace, UNBOUND_BIN, '-d', '-c', configFile], join(options.dir, 'unbound.log'));
      options.onStart?.(child);
      const started = child;
      const probe = new Resolver({ timeout: 300, tries: 1 });
      probe.setServers([options.address]);
      await waitUntil(
        'unbound to answer',
        15_000,
        async (note) => {
          if (!started.running()) throw new GiveUp(`unbound exited (${started.describeExit()}):\n${started.logTail()}`);
          const answers: string[] = await probe.resolve4(CLUSTER_DNS_NAME).catch((error: Error) => {
            note(error.message);
            return [];
          });
          return answers.includes(CLUSTER_DNS_ANSWER);
        },
        100,
      );
    },
    async stop() {
      await child?.stop('SIGTERM', 5000);
    },
  };
}
