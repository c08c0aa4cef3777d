// kconmon's command-line dispatcher: `agent`, `controller`, `check-config`, `demo`, `version`, `help`, each with
// `--help`. Options are parsed by node:util parseArgs. Exit status (README.md#exit-status): 0 ok, 1 a runtime
// failure, 2 bad usage or configuration, or a start-up error (port in use, address not on this host), printed as the
// message alone, without a stack trace. Usage errors print the command's usage on stderr; --help prints it on stdout.
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ConfigError } from './validation/format-issues.ts';
import { PeersFileError } from './discovery/peers-file.ts';
import { StartupError } from './util/startup-error.ts';

// Commands are imported when run: the agent never loads the Kubernetes client (tens of MB of heap it does not need).

type Options = NonNullable<ParseArgsConfig['options']>;
type Values = Record<string, string | boolean | undefined>;

interface Command {
  /** One line for the command list of `kconmon --help`. */
  readonly summary: string;
  /** The command's own help: usage line first. */
  readonly help: string;
  readonly options: Options;
  readonly positionals?: boolean;
  /** Resolves to the exit status, or -1 when the command keeps running (agent, controller). */
  run(values: Values, positionals: string[]): Promise<number>;
}

const HELP_OPTION = '  -h, --help             print this help and exit';

/** The demo's numeric options: their bounds and defaults, for both the help text and the parsing. */
const DEMO_AGENTS = { min: 2, max: 250, default: '4' } as const;
const DEMO_ZONES = { min: 1, default: '2' } as const;
const DEMO_DURATION = { min: 1, max: 86_400 } as const;
const DEMO_INTERVAL = { min: 1000, max: 3_600_000, default: '5000' } as const;

const COMMANDS: Record<string, Command> = {
  agent: {
    summary: 'run the agent (one per node): probe its peers, answer their probes, export /metrics',
    help: `usage: kconmon agent [--config FILE]

Runs the agent: probes every peer it is given (UDP echo, TCP/HTTP, DNS) — past probing.maxPeers only the peers
selected for it — and serves the UDP echo and HTTP (/metrics, /results, /readiness, /healthz, /readyz) on one port,
until SIGTERM or SIGINT.

options:
  -c, --config FILE      the agent configuration (docs/configuration.md); default: $KCONMON_CONFIG
${HELP_OPTION}

environment: NODE_NAME (default: the host name), POD_NAME, POD_IP (the address probes are sent from), ZONE
`,
    options: { config: { type: 'string', short: 'c' } },
    async run(values) {
      const config = (values.config as string | undefined) ?? nonEmpty(process.env.KCONMON_CONFIG);
      if (config === undefined) throw new UsageError('agent', 'agent needs a configuration: --config FILE or $KCONMON_CONFIG');
      await (await import('./commands/agent.ts')).runAgentCommand(config, process.env);
      return -1; // keeps running until a signal
    },
  },
  controller: {
    summary: 'run the controller: watch Kubernetes (or a peers file), push the agent list to every agent',
    help: `usage: kconmon controller [--config FILE]

Runs the controller: discovers the agents (Kubernetes informers, or a peers file) and pushes the agent list to every
agent over a long-lived stream, until SIGTERM or SIGINT. Without a configuration it watches the Kubernetes cluster it
runs in with every default.

options:
  -c, --config FILE      the controller configuration (docs/configuration.md#controller); default: $KCONMON_CONFIG
${HELP_OPTION}

environment: POD_NAME, POD_NAMESPACE, KUBECONFIG (outside a cluster)
`,
    options: { config: { type: 'string', short: 'c' } },
    async run(values) {
      const config = (values.config as string | undefined) ?? nonEmpty(process.env.KCONMON_CONFIG);
      await (await import('./commands/controller.ts')).runControllerCommand(config, process.env);
      return -1; // keeps running until a signal
    },
  },
  'check-config': {
    summary: 'validate an agent (or controller) configuration and the peers file it names, then exit',
    help: `usage: kconmon check-config FILE [--peers FILE] [--controller]

Validates a configuration file without starting anything: prints "FILE: ok" (and the peers file's) and exits 0, or
prints every problem, each naming its field, and exits 2.

options:
  --peers FILE           check this peers file instead of the one the configuration names
  --controller           FILE is a controller configuration
${HELP_OPTION}
`,
    options: { peers: { type: 'string' }, controller: { type: 'boolean', default: false } },
    positionals: true,
    async run(values, positionals) {
      const file = positionals[0];
      if (file === undefined || positionals.length > 1) throw new UsageError('check-config', 'check-config takes exactly one FILE');
      const { checkConfig } = await import('./commands/check-config.ts');
      const kind = values.controller ? 'controller' : 'agent';
      for (const line of await checkConfig(file, values.peers as string | undefined, kind)) console.log(line);
      return 0;
    },
  },
  demo: {
    summary: 'run a local mesh of agents on 127.0.0.x with a live results table (loopback only)',
    help: `usage: kconmon demo [--agents N] [--zones Z] [--duration S] [--interval MS] [--dns]

Starts N agent processes on distinct loopback addresses sharing one port and a controller that pushes them the agent
list, then prints a results table every round. Ctrl-C stops it.

options:
  --agents N             agents to start, ${DEMO_AGENTS.min} to ${DEMO_AGENTS.max} (default ${DEMO_AGENTS.default})
  --zones Z              zones to spread them over, ${DEMO_ZONES.min} to N (default ${DEMO_ZONES.default})
  --duration S           stop after S seconds (up to ${DEMO_DURATION.max}); exit 0 only if every pair was tested and passed, else 1
  --interval MS          test interval in ms, ${DEMO_INTERVAL.min} to ${DEMO_INTERVAL.max} (default ${DEMO_INTERVAL.default})
  --dns                  also test DNS against a resolver the demo starts on loopback
${HELP_OPTION}
`,
    options: {
      agents: { type: 'string', default: DEMO_AGENTS.default },
      zones: { type: 'string', default: DEMO_ZONES.default },
      duration: { type: 'string' },
      interval: { type: 'string', default: DEMO_INTERVAL.default },
      dns: { type: 'boolean', default: false },
    },
    async run(values) {
      const agents = integerOption(values.agents as string, '--agents', DEMO_AGENTS.min, DEMO_AGENTS.max);
      const zones = integerOption(values.zones as string, '--zones', DEMO_ZONES.min, agents);
      const duration = values.duration === undefined ? undefined : integerOption(values.duration as string, '--duration', DEMO_DURATION.min, DEMO_DURATION.max);
      const intervalMs = integerOption(values.interval as string, '--interval', DEMO_INTERVAL.min, DEMO_INTERVAL.max);
      const { runDemo } = await import('./demo/demo.ts');
      return await runDemo({ agents, zones, durationSeconds: duration, dns: values.dns === true, intervalMs });
    },
  },
  plan: {
    summary: 'print what probing a cluster costs: peers, packets/s and series per agent, coverage (sizing before installing)',
    help: `usage: kconmon plan --nodes N [--zones Z] [--max-peers B] [--config FILE]
       kubectl get nodes -o json | kconmon plan [--max-peers B] [--config FILE]

Computes the peer assignment kconmon would use for a cluster (docs/design/peer-selection.md) and prints what it costs:
peers and packets per second per agent, series per agent and cluster-wide, probers per node, zone coverage, scrape size.

options:
  --nodes N              a synthetic cluster of N nodes (names like cloud nodes)
  --zones Z              spread over Z zones of equal size (default 1; only with --nodes)
  --max-peers B          the probing budget (default: the configuration's)
  -c, --config FILE      an agent configuration for intervals and packets (default: every default)
${HELP_OPTION}
`,
    options: { nodes: { type: 'string' }, zones: { type: 'string' }, 'max-peers': { type: 'string' }, config: { type: 'string', short: 'c' } },
    async run(values) {
      const args = ['nodes', 'zones', 'max-peers', 'config'].flatMap((key) => (values[key] === undefined ? [] : [`--${key}`, String(values[key])]));
      return await (await import('./commands/plan.ts')).runPlanCommand(args, process.stdin);
    },
  },
  status: {
    summary: 'print the verdicts of a controller: where the network is broken (exit 0 healthy, 1 not)',
    help: `usage: kconmon status [--controller URL] [-o json]

Asks a controller replica for its verdicts (GET /api/v1/status) and prints each active one with its one-line summary.
Exit status: 0 healthy (no verdict, and enough reports to tell); 1 a verdict is active, too little data to tell, or
the controller cannot be asked; 2 bad usage.

options:
  --controller URL       the controller's base URL (default: $KCONMON_CONTROLLER, else http://127.0.0.1:8080)
  -o, --output FORMAT    table (default) or json (the status document as the API returns it)
${HELP_OPTION}
`,
    options: { controller: { type: 'string' }, output: { type: 'string', short: 'o', default: 'table' } },
    async run(values) {
      const output = values.output as string;
      if (output !== 'table' && output !== 'json') throw new UsageError('status', `--output: must be table or json (got "${output}")`);
      const { runStatusCommand, DEFAULT_STATUS_CONTROLLER } = await import('./commands/status.ts');
      const controller = (values.controller as string | undefined) ?? nonEmpty(process.env.KCONMON_CONTROLLER) ?? DEFAULT_STATUS_CONTROLLER;
      try {
        new URL(controller);
      } catch {
        throw new UsageError('status', `--controller: not a URL: "${controller}"`);
      }
      return await runStatusCommand({ controller, output });
    },
  },
  version: {
    summary: 'print the kconmon version (also kconmon --version)',
    help: `usage: kconmon version

Prints the kconmon version and exits.

options:
${HELP_OPTION}
`,
    options: {},
    async run() {
      console.log((await import('./version.ts')).readVersion());
      return 0;
    },
  },
  help: {
    summary: "print this help, or a command's (also kconmon COMMAND --help)",
    help: `usage: kconmon help [COMMAND]

Prints the list of commands, or a command's help, and exits.

options:
${HELP_OPTION}
`,
    options: {},
    positionals: true,
    async run(_values, positionals) {
      const [name, ...extra] = positionals;
      if (extra.length > 0) throw new UsageError('help', 'help takes at most one COMMAND');
      if (name === undefined) return print(process.stdout, OVERVIEW, 0);
      const command = COMMANDS[name];
      if (command === undefined) throw new UsageError(undefined, `unknown command "${name}"`);
      return print(process.stdout, command.help, 0);
    },
  },
};

const OVERVIEW = `usage: kconmon <command> [options]

Continuous node-to-node connectivity testing (UDP, TCP/HTTP, DNS) for Kubernetes, exported as Prometheus metrics.

commands:
${Object.entries(COMMANDS)
  .map(([name, command]) => `  ${name.padEnd(14)} ${command.summary}`)
  .join('\n')}

Run "kconmon COMMAND --help" for a command's options.
exit status: 0 ok, 1 runtime failure, 2 bad usage or configuration (see README.md, "Exit status")
`;

/** A command-line mistake: printed with the usage of `command` (or the overview), exit status 2. */
class UsageError extends Error {
  readonly command: string | undefined;
  constructor(command: string | undefined, message: string) {
    super(message);
    this.command = command;
  }
}

/** Runs one command; resolves to its exit status, or -1 when it keeps running (agent, controller). */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  try {
    switch (name) {
      case undefined:
        throw new UsageError(undefined, 'no command given');
      case '-h':
      case '--help':
        return print(process.stdout, OVERVIEW, 0);
      case '-v':
      case '--version':
        return await runCommand('version', []);
      default:
        return await runCommand(name, rest);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      const usage = error.command === undefined ? OVERVIEW : (COMMANDS[error.command]?.help ?? OVERVIEW);
      return print(process.stderr, `kconmon: ${error.message}\n\n${usage}`, 2);
    }
    if (error instanceof ConfigError || error instanceof PeersFileError || error instanceof StartupError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
}

async function runCommand(name: string, args: string[]): Promise<number> {
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) throw new UsageError(undefined, `unknown command "${name}"`);
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({
      args,
      options: { ...command.options, help: { type: 'boolean', short: 'h', default: false } },
      allowPositionals: command.positionals === true,
      strict: true,
    }) as { values: Values; positionals: string[] };
  } catch (error) {
    if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) throw new UsageError(name, `${name}: ${(error as Error).message}`);
    throw error;
  }
  if (parsed.values.help === true) return print(process.stdout, command.help, 0);
  return await command.run(parsed.values, parsed.positionals);
}

function print(stream: NodeJS.WritableStream, text: string, status: number): number {
  stream.write(text);
  return status;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value?.trim() ? value : undefined;
}

function integerOption(text: string, flag: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new UsageError('demo', `${flag}: must be an integer from ${min} to ${max} (got "${text}")`);
  return value;
}
