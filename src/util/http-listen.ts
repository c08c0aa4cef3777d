// Starts an HTTP server on an address and port (0 = any free port) and returns the port and a close function that
// also ends open connections (streams, keep-alives), so shutdown never waits on a client. A port in use or an address
// not on this host is a StartupError naming both.
import type http from 'node:http';
import type https from 'node:https';
import { listenFailure } from './startup-error.ts';

export interface ListeningServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function listen(server: http.Server | https.Server, address: string, port: number, name = 'http'): Promise<ListeningServer> {
  await new Promise<void>((resolve, reject) => {
    const fail = (error: Error) => reject(listenFailure(error, address, port, name));
    server.once('error', fail);
    server.listen({ host: address, port, exclusive: true }, () => {
      server.off('error', fail);
      resolve();
    });
  });
  const bound = server.address();
  return {
    port: typeof bound === 'object' && bound ? bound.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
