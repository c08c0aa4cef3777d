// What every mode of the agent benchmark starts first: the agent's default schedule (what each peer's probes and the
// expected probe counts follow), and the synthetic peers (synthetic-peers.ts) as a child of the benchmark's group,
// bound on every peer address before the agent or the naive prober under test starts.
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { agentConfigSchema, type AgentConfig } from '../../src/config/schema.ts';
import type { ChildGroup } from '../../harness/child-group.ts';
import type { AddressPlan } from './addresses.ts';
import { controlChannel, type ControlChannel } from './ipc.ts';
import type { SyntheticPeersConfig } from './synthetic-peers.ts';

const SYNTHETIC_PEERS = fileURLToPath(new URL('./synthetic-peers.ts', import.meta.url));

export interface AgentSchedule {
  /** The agent configuration at its defaults (DNS off, as the benchmark runs it). */
  readonly defaults: AgentConfig;
  /** Mean milliseconds between two probes of one peer by one test: interval + mean jitter. */
  readonly meanPeriodMs: number;
}

export function agentDefaultSchedule(): AgentSchedule {
  const defaults = agentConfigSchema.parse({ dns: { enabled: false }, discovery: { peersFile: 'peers.json' } });
  return { defaults, meanPeriodMs: defaults.udp.interval + (defaults.jitter.min + defaults.jitter.max) / 2 };
}

export interface SyntheticPeersOptions {
  readonly group: ChildGroup;
  readonly plan: AddressPlan;
  readonly port: number;
  /** The peers probe the agent too, at its own default rate. */
  readonly bidirectional: boolean;
  readonly schedule: AgentSchedule;
  /** The child exits by itself after this long, whatever happens to the benchmark. */
  readonly deadlineMs: number;
  /** How long binding every address may take (default 30 s). */
  readonly readyTimeoutMs?: number;
}

export interface SyntheticPeersProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly config: SyntheticPeersConfig;
  readonly control: ControlChannel;
  stop(): Promise<void>;
}

/** Starts the synthetic peers; resolves once every address is bound (stopped again if they fail to get there). */
export async function startSyntheticPeers(options: SyntheticPeersOptions): Promise<SyntheticPeersProcess> {
  const { group, plan, schedule } = options;
  const { defaults } = schedule;
  const config: SyntheticPeersConfig = {
    agent: plan.agent,
    port: options.port,
    peers: plan.peers,
    bidirectional: options.bidirectional,
    intervalMs: defaults.udp.interval,
    jitter: defaults.jitter,
    udp: { packets: defaults.udp.packets, packetSize: defaults.udp.packetSize, spacingMs: defaults.udp.packetSpacing, timeoutMs: defaults.udp.timeout },
    tcpTimeoutMs: defaults.tcp.timeout,
    deadlineMs: options.deadlineMs,
  };
  const child = group.fork(SYNTHETIC_PEERS, [JSON.stringify(config)]);
  const stop = () => group.stop(child);
  const control = controlChannel(child, 'synthetic peers');
  try {
    await control.ready(options.readyTimeoutMs ?? 30_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { child, pid: child.pid as number, config, control, stop };
}
