// Which source addresses the UDP echo answers: every agent discovery currently knows, plus agents that left recently
// (a departing agent may still be finishing a round when it is dropped; answering it avoids a false loss).
export interface EchoAllowlist {
  /** Replaces the known addresses; addresses no longer listed stay allowed for the grace period. */
  update(addresses: Iterable<string>): void;
  allows(address: string): boolean;
}

export function createEchoAllowlist(graceMs: number, now: () => number = Date.now): EchoAllowlist {
  let current = new Set<string>();
  const departed = new Map<string, number>();
  return {
    update(addresses) {
      const next = new Set(addresses);
      const at = now();
      for (const address of current) if (!next.has(address)) departed.set(address, at + graceMs);
      for (const address of next) departed.delete(address);
      current = next;
    },
    allows(address) {
      const plain = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
      if (current.has(plain)) return true;
      const until = departed.get(plain);
      if (until === undefined) return false;
      if (until >= now()) return true;
      departed.delete(plain);
      return false;
    },
  };
}
