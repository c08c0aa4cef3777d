// The agent's identity (node, pod, IP, zone), read from the environment as the DaemonSet's downward API sets it.
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import { ConfigError } from '../validation/format-issues.ts';

export interface AgentIdentity {
  /** Kubernetes node name: the `source` label of every series this agent exports. */
  readonly nodeName: string;
  readonly podName: string;
  /** The address peers reach this agent on; probes are sent from it. Undefined: the kernel picks. */
  readonly ip: string | undefined;
  /** Zone of this agent's node (`source_zone`); the controller may supply it instead. */
  readonly zone: string;
}

/** Reads NODE_NAME, POD_NAME, POD_IP and ZONE; throws a ConfigError naming each bad variable. */
export function identityFromEnv(env: NodeJS.ProcessEnv): AgentIdentity {
  const problems: string[] = [];
  const nodeName = nonEmpty(env.NODE_NAME) ?? hostname();
  const ip = nonEmpty(env.POD_IP);
  if (ip !== undefined && isIP(ip) === 0) problems.push(`env POD_IP: must be an IPv4 or IPv6 address (got "${ip}")`);
  const zone = nonEmpty(env.ZONE) ?? 'unknown';
  if (problems.length > 0) throw new ConfigError('environment', problems);
  return { nodeName, podName: nonEmpty(env.POD_NAME) ?? nodeName, ip, zone };
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}
