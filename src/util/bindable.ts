// Start-up check that an address belongs to this host, by binding a throw-away UDP socket to it (any port): the
// agent sends its probes from POD_IP, and an address that is not local would otherwise fail only at the first round.
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import { StartupError, socketErrorReason } from './startup-error.ts';

/**
 * Resolves if `address` can be bound; otherwise rejects with a StartupError `cannot <action>: <cause>`, e.g.
 * `cannot send probes from POD_IP 10.9.9.9: address not available on this host`.
 */
export async function assertBindable(address: string, action: string): Promise<void> {
  const socket = dgram.createSocket(isIP(address) === 6 ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address, port: 0, exclusive: true }, () => resolve());
    });
  } catch (error) {
    throw new StartupError(`cannot ${action}: ${socketErrorReason(error)}`);
  } finally {
    try {
      socket.close();
    } catch {
      // A socket whose bind failed may already be closed.
    }
  }
}
