// Errors that stop start-up on an operator's mistake (a port in use, an address not on this host): one line naming
// the cause, which `kconmon` prints without a stack trace before exiting with status 2.

export class StartupError extends Error {
  constructor(message: string) {
    super(`kconmon: ${message}`);
    this.name = 'StartupError';
  }
}

/** `10.0.0.1:8080`, `[fd00::1]:8080`. */
function formatEndpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Why the kernel refused to bind or listen, in words. */
export function socketErrorReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'EADDRINUSE':
      return 'port already in use';
    case 'EADDRNOTAVAIL':
      return 'address not available on this host';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)';
    case 'EAFNOSUPPORT':
      return 'address family not supported on this host';
    default:
      return code ?? (error as Error).message;
  }
}

/** A StartupError for a socket that could not listen: `cannot listen on 10.9.9.9:8080 (udp echo): address not …`. */
export function listenFailure(error: unknown, address: string, port: number, socket: string): StartupError {
  return new StartupError(`cannot listen on ${formatEndpoint(address, port)} (${socket}): ${socketErrorReason(error)}`);
}
