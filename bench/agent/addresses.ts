// The benchmark's loopback address plan: the agent, the minimal UDP client and N synthetic peers, all inside 127/8
// (every address of which is on `lo` in Linux), so no benchmark traffic ever leaves the machine.

export interface AddressPlan {
  /** The agent's POD_IP and listenAddress. */
  readonly agent: string;
  /** The minimal standalone UDP client's source address. */
  readonly client: string;
  /** One address per synthetic peer: 127.1.x.y with y in 1..250. */
  readonly peers: readonly string[];
}

export const MAX_PEERS = 250 * 20;

export function addressPlan(peerCount: number): AddressPlan {
  if (!Number.isInteger(peerCount) || peerCount < 0 || peerCount > MAX_PEERS) throw new Error(`peer count must be 0..${MAX_PEERS}`);
  const peers = Array.from({ length: peerCount }, (_, index) => `127.1.${Math.floor(index / 250)}.${(index % 250) + 1}`);
  return { agent: '127.2.0.1', client: '127.2.0.2', peers };
}

/** True for IPv4 loopback literals: the only destinations the benchmark may send to. */
export function isLoopback(address: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address);
}
