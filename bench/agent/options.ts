// The benchmark's command line: which configurations, how long, which port, and what to write.
import { parseArgs } from 'node:util';
import { HelpRequested, integerOption as int } from '../common/command-line.ts';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { MAX_PEERS } from './addresses.ts';
import type { Mode } from './scenario.ts';

export interface BenchOptions {
  readonly peers: readonly number[];
  readonly modes: readonly Mode[];
  readonly windowSeconds: number;
  readonly warmupSeconds: number;
  /** 0: pick a free port. */
  readonly port: number;
  readonly cpuProfile: boolean;
  /** Seconds to wait, before each configuration, for other work on the host to drop below ~300 millicores. */
  readonly settleSeconds: number;
  /**
   * Run the agent from the esbuild bundle (what the image runs), a fresh tsc build, src/cli.ts (type stripping), or another
   * CLI file (an experimental copy of the sources elsewhere).
   */
  readonly agentEntry: string;
  /** Extra Node flags for the agent only. */
  readonly agentNodeFlags: readonly string[];
  readonly docs: string | undefined;
  /** Run the naive prober (bench/agent/naive-prober.ts) after the agent at every N, for the agent/naive ratio. */
  readonly naive: boolean;
  /** During each agent window, scrape /metrics this often (0: only the two scrapes around the window), seconds. */
  readonly scrapeEverySeconds: number;
  /** Soak mode: one agent at the first N for this many minutes, scraped every `soakScrapeSeconds` (0: no soak). */
  readonly soakMinutes: number;
  readonly soakScrapeSeconds: number;
}

export const USAGE = `usage: node bench/agent/run.ts [options]
  --peers 0,10,100,1000             synthetic peer counts (0..${MAX_PEERS}; 0: an agent with an empty peer list)
  --modes outbound                  outbound: the agent probes the peers; bidirectional: the peers probe it too
  --no-naive                        skip the naive prober (by default it runs after the agent at each N, same window)
  --scrape-every 0                  also scrape the agent's /metrics every this many seconds during the window
  --soak 0                          soak mode: minutes (1..60) one agent at the first --peers N runs, scraped every
                                    --soak-scrape seconds; prints RSS, heap and fds per minute and the last-10-minute
                                    slope (npm run bench:soak = --soak 30 --peers 1000)
  --soak-scrape 15                  seconds between the soak's scrapes
  --window 60                       measured window per configuration, seconds (5..600)
  --warmup 15                       warm-up before the window, seconds (0..300)
  --port 0                          the shared agent/peer port (0: pick a free one)
  --settle 60                       before each configuration, wait up to this long for a quiet host (0: don't)
  --cpu-prof                        write a V8 CPU profile of each agent run and print its top functions
  --agent-entry bundle              bundle: the esbuild bundle the image runs; dist: a fresh tsc build (npm install);
                                    src: node src/cli.ts (type stripping); or the path of another kconmon CLI file
  --agent-flags=FLAGS               extra Node flags for the agent (default none: the agent adds its own V8 flags,
                                    src/util/runtime-flags.ts); the naive prober gets the same flags as the agent
  --docs docs/benchmarks.md         markdown file whose "## Agent" section is (re)written
  --no-docs                         print only
`;

export function parseOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      peers: { type: 'string', default: '0,10,100,1000' },
      modes: { type: 'string', default: 'outbound' },
      'no-naive': { type: 'boolean', default: false },
      'scrape-every': { type: 'string', default: '0' },
      soak: { type: 'string', default: '0' },
      'soak-scrape': { type: 'string', default: '15' },
      window: { type: 'string', default: '60' },
      warmup: { type: 'string', default: '15' },
      port: { type: 'string', default: '0' },
      settle: { type: 'string', default: '60' },
      'cpu-prof': { type: 'boolean', default: false },
      'agent-entry': { type: 'string', default: 'bundle' },
      'agent-flags': { type: 'string', default: '' },
      docs: { type: 'string', default: 'docs/benchmarks.md' },
      'no-docs': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) throw new HelpRequested();
  const peers = values.peers.split(',').map((text) => int(text, '--peers', 0, MAX_PEERS));
  const modes = values.modes.split(',').map((text) => {
    if (text !== 'outbound' && text !== 'bidirectional') throw new Error(`--modes: "${text}" is not outbound or bidirectional`);
    return text as Mode;
  });
  return {
    peers,
    modes,
    windowSeconds: int(values.window, '--window', 5, 600),
    warmupSeconds: int(values.warmup, '--warmup', 0, 300),
    port: int(values.port, '--port', 0, 65535),
    settleSeconds: int(values.settle, '--settle', 0, 600),
    cpuProfile: values['cpu-prof'],
    agentEntry: entry(values['agent-entry']),
    agentNodeFlags: flags(values['agent-flags']),
    docs: values['no-docs'] ? undefined : values.docs,
    naive: !values['no-naive'],
    scrapeEverySeconds: int(values['scrape-every'], '--scrape-every', 0, 600),
    soakMinutes: int(values.soak, '--soak', 0, 60),
    soakScrapeSeconds: int(values['soak-scrape'], '--soak-scrape', 1, 600),
  };
}

function flags(text: string): string[] {
  const list = text.split(/\s+/).filter((flag) => flag !== '');
  for (const flag of list) if (!flag.startsWith('--')) throw new Error(`--agent-flags: "${flag}" is not a --flag`);
  return list;
}

function entry(text: string): string {
  if (text !== 'src' && text !== 'dist' && text !== 'bundle' && !existsSync(text))
    throw new Error(`--agent-entry: "${text}" is not bundle, dist, src or an existing file`);
  return text === 'src' || text === 'dist' || text === 'bundle' ? text : resolve(text);
}
