// Feeds an agent from the controller's stream: ready agents become probe targets, every agent's address is answered
// by the echo, the zone of the agent's own node becomes its `source_zone` (unless fixed by $ZONE), and whether a
// controller is connected becomes kconmon_agent_controller_connected. The bearer token and the pinned CA are passed
// through to the client.
import type { Logger } from '../log.ts';
import { startControllerClient, type ControllerClient } from './controller-client.ts';
import type { Peer } from './peer.ts';

/** What the stream feeds: the agent, seen from discovery (discovery knows nothing else of it). */
export interface PeerListConsumer {
  /** The probe targets, and the addresses of every other agent (the echo answers them too). */
  setPeers(peers: readonly Peer[], otherAgents: readonly string[]): void;
  setZone(zone: string): void;
  setControllerConnected(connected: boolean): void;
}

export interface ControllerDiscoveryOptions {
  readonly urls: readonly string[];
  readonly nodeName: string;
  readonly podName: string;
  readonly reconnect: { readonly min: number; readonly max: number };
  /** Keep this zone instead of the controller's (the operator set $ZONE). */
  readonly fixedZone: boolean;
  readonly log: Logger;
  readonly silenceTimeoutMs?: number;
  /** The bearer token sent to the controller (a token file's current content). */
  readonly token?: () => Promise<string | undefined>;
  /** PEM CA pinned for https controller URLs. */
  readonly ca?: string | Buffer;
}

export function connectAgentToController(agent: PeerListConsumer, options: ControllerDiscoveryOptions): ControllerClient {
  return startControllerClient({
    urls: options.urls,
    nodeName: options.nodeName,
    podName: options.podName,
    reconnect: options.reconnect,
    log: options.log,
    ...(options.silenceTimeoutMs !== undefined ? { silenceTimeoutMs: options.silenceTimeoutMs } : {}),
    ...(options.token !== undefined ? { token: options.token } : {}),
    ...(options.ca !== undefined ? { ca: options.ca } : {}),
    onConnection: ({ connected }) => agent.setControllerConnected(connected),
    onUpdate: ({ agents, zone }) => {
      if (!options.fixedZone) agent.setZone(zone);
      agent.setPeers(
        agents.filter((entry) => entry.ready).map(({ name, nodeName, ip, zone: peerZone }) => ({ name, nodeName, ip, zone: peerZone })),
        agents.map((entry) => entry.ip),
      );
    },
  });
}
