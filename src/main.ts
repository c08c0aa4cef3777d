// kconmon's command-line dispatcher: `agent`, `controller`, `demo`, `check-config`. Exit status: 0 done, 1 a runtime
// failure, 2 bad usage or configuration, or a start-up error (port in use, address not on this host), printed as
// the message alone, without a stack trace.
import { parseArgs } from 'node:util';
import { ConfigError } from './config/format-issues.ts';
import { PeersFileError } from './discovery/peers-file.ts';
import { StartupError } from './util/startup-error.ts';

// Commands are imported when run: the agent never loads the Kubernetes client (tens of MB of heap it does not need).

const USAGE = `usage: kconmon <command> [options]

commands:
  agent [--config FILE]                 run the agent (config also from $KCONMON_CONFIG)
  controller [--config FILE]            run the controller (config also from $KCONMON_CONFIG)
  demo [--agents N] [--zones Z] [--duration S] [--interval MS] [--dns]
                                        run a local mesh of N agents on 127.0.0.x
  check-config FILE [--peers FILE] [--controller]
                                        validate an agent (or controller) configuration and exit
  plan --nodes N [--zones Z] | plan < nodes.json   [--max-peers B] [--config FILE]
                                        print what probing N nodes costs (kubectl get nodes -o json on stdin)
  version, --version                    print the kconmon version
`;

/** Runs one command; resolves to its exit status, or -1 when it keeps running (agent). */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'agent': {
        const { values } = parseArgs({ args: rest, options: { config: { type: 'string', short: 'c' } }, strict: true });
        await (await import('./commands/agent.ts')).runAgentCommand(values.config ?? process.env.KCONMON_CONFIG, process.env);
        return -1; // keeps running until a signal
      }
      case 'controller': {
        const { values } = parseArgs({ args: rest, options: { config: { type: 'string', short: 'c' } }, strict: true });
        await (await import('./commands/controller.ts')).runControllerCommand(values.config ?? process.env.KCONMON_CONFIG, process.env);
        return -1; // keeps running until a signal
      }
      case 'check-config': {
        const { values, positionals } = parseArgs({ args: rest, options: { peers: { type: 'string' }, controller: { type: 'boolean', default: false } }, allowPositionals: true, strict: true });
        const file = positionals[0];
        if (!file || positionals.length > 1) return usage('check-config takes exactly one FILE');
        const { checkConfig } = await import('./commands/check-config.ts');
        for (const line of await checkConfig(file, values.peers, values.controller ? 'controller' : 'agent')) console.log(line);
        return 0;
      }
      case 'demo': {
        const { values } = parseArgs({
          args: rest,
          options: {
            agents: { type: 'string', default: '4' },
            zones: { type: 'string', default: '2' },
            duration: { type: 'string' },
            interval: { type: 'string', default: '5000' },
            dns: { type: 'boolean', default: false },
          },
          strict: true,
        });
        const agents = positiveInt(values.agents, '--agents', 2, 250);
        const zones = positiveInt(values.zones, '--zones', 1, agents);
        const duration = values.duration === undefined ? undefined : positiveInt(values.duration, '--duration', 1, 86_400);
        const intervalMs = positiveInt(values.interval, '--interval', 1000, 3_600_000);
        const { runDemo } = await import('./demo/demo.ts');
        return await runDemo({ agents, zones, durationSeconds: duration, dns: values.dns, intervalMs });
      }
      case 'plan':
        return await (await import('./commands/plan.ts')).runPlanCommand(rest, process.stdin);
      case '--version':
      case 'version':
        console.log((await import('./version.ts')).readVersion());
        return 0;
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        return usage(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof ConfigError || error instanceof PeersFileError || error instanceof StartupError || error instanceof UsageError) {
      console.error(error.message);
      return 2;
    }
    if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) return usage((error as Error).message);
    throw error;
  }
}

class UsageError extends Error {}

function positiveInt(text: string, flag: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new UsageError(`${flag}: must be an integer from ${min} to ${max} (got "${text}")`);
  return value;
}

function usage(message: string): number {
  console.error(`kconmon: ${message}\n\n${USAGE}`);
  return 2;
}
