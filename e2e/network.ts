// The miniature cluster's network: a bridge in the host namespace (198.18.0.1/24, the "host" every node reaches:
// Prometheus, the controller), and one network namespace per node attached to it by a veth pair. Namespaces get their
// address, loopback up, IPv6 off and NO default route: nothing in them can reach beyond 198.18.0.0/24. The bridge
// is not connected to any physical interface.
import { existsSync } from 'node:fs';
import { run, tryRun } from '../harness/system.ts';

export const SUBNET = '198.18.0.0/24';
export const HOST_ADDRESS = '198.18.0.1';
const PREFIX_LENGTH = 24;

/** Names derived from one prefix, so that a cluster's pieces can be found and removed from its state file. */
export interface NetworkNames {
  readonly bridge: string;
  namespace(id: string): string;
  /** The host end of a namespace's veth pair (interface names are at most 15 characters). */
  hostLink(id: string): string;
}

export function networkNames(prefix: string): NetworkNames {
  if (!/^[a-z][a-z0-9]{1,6}$/.test(prefix)) throw new Error(`network prefix "${prefix}" must be 2–7 lower-case letters/digits`);
  return {
    bridge: `${prefix}-br`,
    namespace: (id) => `${prefix}-${id}`,
    hostLink: (id) => {
      const name = `${prefix}-${id.replace(/^node-/, 'n')}`;
      if (name.length > 15) throw new Error(`interface name ${name} is longer than 15 characters`);
      return name;
    },
  };
}

export function linkExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

function namespaceExists(name: string): boolean {
  return existsSync(`/run/netns/${name}`);
}

function disableIpv6(sysctlPrefix: string[], iface: string): void {
  tryRun(sysctlPrefix[0]!, [...sysctlPrefix.slice(1), 'sysctl', '-q', '-w', `net.ipv6.conf.${iface}.disable_ipv6=1`]);
}

/** Creates the bridge with the host address; fails if it already exists (another cluster is up). */
export function createBridge(bridge: string): void {
  if (linkExists(bridge)) throw new Error(`bridge ${bridge} already exists: another e2e cluster is up (npm run e2e:down removes it)`);
  run('ip', ['link', 'add', bridge, 'type', 'bridge']);
  disableIpv6(['env'], bridge);
  run('ip', ['addr', 'add', `${HOST_ADDRESS}/${PREFIX_LENGTH}`, 'dev', bridge]);
  run('ip', ['link', 'set', bridge, 'up']);
}

export function removeBridge(bridge: string): void {
  if (linkExists(bridge)) tryRun('ip', ['link', 'del', bridge]);
}

/** A locally administered unicast MAC made of the IPv4 address's four bytes (02:00:a:b:c:d). */
export function macFor(address: string): string {
  const octets = address.split('.').map(Number);
  if (octets.length !== 4 || octets.some((octet) => !Number.isInteger(octet) || octet < 0 || octet > 255)) throw new Error(`not an IPv4 address: ${address}`);
  return ['02', '00', ...octets.map((octet) => octet.toString(16).padStart(2, '0'))].join(':');
}

/** A namespace with `address`/24 on eth0 (MAC from the address), bridged to the host; loopback up; no default route. */
export function createNamespace(names: NetworkNames, id: string, address: string): { namespace: string; hostLink: string } {
  const namespace = names.namespace(id);
  const hostLink = names.hostLink(id);
  if (namespaceExists(namespace)) throw new Error(`network namespace ${namespace} already exists`);
  run('ip', ['netns', 'add', namespace]);
  try {
    run('ip', ['-n', namespace, 'link', 'set', 'lo', 'up']);
    disableIpv6(['ip', 'netns', 'exec', namespace], 'all');
    disableIpv6(['ip', 'netns', 'exec', namespace], 'default');
    // The node's MAC follows from its address: a node re-created with the same IP (churn) keeps the MAC that its
    // peers' neighbour caches hold. With a new random MAC, a peer that sent to it before hearing from it used the
    // stale entry for seconds and its first tests to the new node failed (e2e churn, cycles ≥ 2).
    run('ip', ['link', 'add', hostLink, 'type', 'veth', 'peer', 'name', 'eth0', 'address', macFor(address), 'netns', namespace]);
    disableIpv6(['env'], hostLink);
    run('ip', ['link', 'set', hostLink, 'master', names.bridge]);
    run('ip', ['link', 'set', hostLink, 'up']);
    run('ip', ['-n', namespace, 'addr', 'add', `${address}/${PREFIX_LENGTH}`, 'dev', 'eth0']);
    run('ip', ['-n', namespace, 'link', 'set', 'eth0', 'up']);
    const routes = run('ip', ['-n', namespace, 'route', 'show', 'default']).trim();
    if (routes !== '') throw new Error(`namespace ${namespace} has a default route: ${routes}`);
  } catch (error) {
    removeNamespace(namespace, hostLink);
    throw error;
  }
  return { namespace, hostLink };
}

/** Deletes a namespace (its end of the veth goes with it) and the host end if still there. Idempotent. */
export function removeNamespace(namespace: string, hostLink: string | undefined): void {
  if (namespaceExists(namespace)) tryRun('ip', ['netns', 'del', namespace]);
  if (hostLink && linkExists(hostLink)) tryRun('ip', ['link', 'del', hostLink]);
}
