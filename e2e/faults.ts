// Fault injection with nftables inside a node's network namespace: one dedicated table (`inet kconmon_e2e_fault`)
// that each fault replaces atomically and heal() deletes. The host bridge address (198.18.0.1: Prometheus, the
// controller) always stays reachable, so observability survives every fault.
import { run } from '../harness/system.ts';
import { HOST_ADDRESS } from './network.ts';

const FAULT_TABLE = 'kconmon_e2e_fault';

/** Replaces the fault table with `chains` in one transaction (works whether the table exists or not). */
function tableScript(chains: string): string {
  return `table inet ${FAULT_TABLE}\ndelete table inet ${FAULT_TABLE}\ntable inet ${FAULT_TABLE} {\n${chains}}\n`;
}

/**
 * Drops `percent` % of the packets entering the node, chosen independently per packet (`numgen random mod 100`).
 * Every UDP probe round trip that involves the node crosses into it exactly once — the request when the node is the
 * destination, the echo when it is the source — so each is lost with probability percent/100 in both directions.
 * Packets from the host are spared so that scrapes and the controller stream are not perturbed.
 */
export function lossScript(percent: number): string {
  if (!Number.isInteger(percent) || percent < 0 || percent > 100) throw new Error(`loss percent must be an integer 0–100, got ${percent}`);
  return tableScript(`  chain input {
    type filter hook input priority -10; policy accept;
    iif "lo" accept
    ip saddr ${HOST_ADDRESS} accept
    numgen random mod 100 < ${percent} drop
  }
`);
}

/** Drops every packet to or from `addresses` (another zone's nodes), in and out. */
export function partitionScript(addresses: readonly string[]): string {
  if (addresses.length === 0) throw new Error('partition: no addresses to cut off');
  const set = `{ ${addresses.join(', ')} }`;
  return tableScript(`  chain input {
    type filter hook input priority -10; policy accept;
    ip saddr ${set} drop
  }
  chain output {
    type filter hook output priority -10; policy accept;
    ip daddr ${set} drop
  }
`);
}

/** Drops everything in and out except loopback and the host bridge address (Prometheus still scrapes the node). */
export function blackholeScript(): string {
  return tableScript(`  chain input {
    type filter hook input priority -10; policy drop;
    iif "lo" accept
    ip saddr ${HOST_ADDRESS} accept
  }
  chain output {
    type filter hook output priority -10; policy drop;
    oif "lo" accept
    ip daddr ${HOST_ADDRESS} accept
  }
`);
}

/**
 * Blocks everything the node sends on its own initiative (its probes, its DNS queries) while it still answers others:
 * a packet leaves only if it goes to loopback or the host, or comes from the agent's port (`agentPort`, the UDP echo
 * and the HTTP server that TCP tests connect to; probes and queries leave from ephemeral ports). Stateless, so flows
 * the kernel already tracked before the fault cannot slip through as "established".
 */
export function egressScript(agentPort: number): string {
  return tableScript(`  chain output {
    type filter hook output priority -10; policy drop;
    oif "lo" accept
    ip daddr ${HOST_ADDRESS} accept
    udp sport ${agentPort} accept
    tcp sport ${agentPort} accept
  }
`);
}

/**
 * Applied in A's namespace: A's probes to `destination` (B) fail, B's probes to A pass. Packets from A to B leave only
 * from the agent's port (A answering B's UDP echo requests and TCP tests); everything A originates to B is dropped.
 */
export function oneWayScript(destination: string, agentPort: number): string {
  return tableScript(`  chain output {
    type filter hook output priority -10; policy accept;
    ip daddr ${destination} udp sport ${agentPort} accept
    ip daddr ${destination} tcp sport ${agentPort} accept
    ip daddr ${destination} drop
  }
`);
}

export function healScript(): string {
  return `table inet ${FAULT_TABLE}\ndelete table inet ${FAULT_TABLE}\n`;
}

export function applyInNamespace(namespace: string, script: string): void {
  run('ip', ['netns', 'exec', namespace, 'nft', '-f', '-'], script);
}

/** The fault table's rules in a namespace ('' when there is none). */
export function listFault(namespace: string): string {
  try {
    return run('ip', ['netns', 'exec', namespace, 'nft', 'list', 'table', 'inet', FAULT_TABLE]);
  } catch {
    return '';
  }
}
