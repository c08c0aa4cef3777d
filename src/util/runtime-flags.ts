// The V8 flags kconmon's long-running commands need, set by the program itself. V8 sizes its young generation from the
// host's memory (up to 64 MiB of semi-space on a large node) when the heap is created, so the flag must be on Node's
// command line: `v8.setFlagsFromString` after start-up has no effect on it (measured: new space stays at 64 MiB). The
// process re-executes itself in place (`process.execve`: same PID, so it stays PID 1 in a container) with the flags
// added, unless the user gave that flag (or its --no- form) on the command line or in NODE_OPTIONS (theirs wins, and a
// NODE_OPTIONS that sets anything else no longer drops ours). Node accepts --max-semi-space-size in NODE_OPTIONS but
// not --optimize-for-size: `node --no-optimize-for-size bin/kconmon.js agent` turns that one off.

/**
 * The agent's flags. --max-semi-space-size=1: 1 MiB semi-spaces keep RSS low at a small, measured CPU cost.
 * --optimize-for-size: V8 grows the old generation less eagerly and keeps less code; measured at 1,000 peers: peak RSS
 * 202 → 127 MiB, heap used 55 → 38 MiB, CPU +15 % (docs/benchmarks.md).
 */
const RUNTIME_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--optimize-for-size'];

/**
 * The long-running commands and their flags. The controller: --heap-growing-percent=50 (the old generation may grow by
 * half its live size before the next full collection, instead of up to 4× on a large host): judging 5,000 reporting
 * agents, peak RSS 428 → 244 MiB for CPU 186 → 206 m, side by side (docs/benchmarks.md, "Controller: reporting
 * agents"); --optimize-for-size halved RSS too but doubled CPU.
 */
const FLAGS_BY_COMMAND: Readonly<Record<string, readonly string[]>> = {
  agent: RUNTIME_FLAGS,
  controller: ['--max-semi-space-size=1', '--heap-growing-percent=50'],
};

/** Node flags from `flags` that neither the command line (`execArgv`) nor NODE_OPTIONS already sets (by name). */
export function missingRuntimeFlags(execArgv: readonly string[], nodeOptions: string | undefined, flags: readonly string[] = RUNTIME_FLAGS): string[] {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].map(flagName);
  return flags.filter((flag) => !given.includes(flagName(flag)));
}

/** `--max-semi-space-size=1` and `--max_semi_space_size 1` name the same V8 flag; `--no-optimize-for-size` names it too. */
function flagName(flag: string): string {
  return flag
    .split('=', 1)[0]!
    .replaceAll('_', '-')
    .replace(/^--no-/, '--');
}

export interface RelaunchEnvironment {
  readonly command: string | undefined;
  readonly execPath: string;
  readonly execArgv: readonly string[];
  /** process.argv: [node, script, ...args]. */
  readonly argv: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly execve: ((file: string, args: string[], env: NodeJS.ProcessEnv) => never) | undefined;
  readonly warn: (line: string) => void;
}

/** Re-executes the process with the missing runtime flags (never returns then); returns when nothing is missing. */
export function relaunchWithRuntimeFlags(environment: RelaunchEnvironment): void {
  const flags = Object.hasOwn(FLAGS_BY_COMMAND, environment.command ?? '') ? FLAGS_BY_COMMAND[environment.command as string] : undefined;
  if (flags === undefined) return;
  const missing = missingRuntimeFlags(environment.execArgv, environment.env.NODE_OPTIONS, flags);
  if (missing.length === 0) return;
  if (environment.execve === undefined) {
    environment.warn(`kconmon: cannot re-execute to set ${missing.join(' ')} (no process.execve); pass it to node to keep the memory figures`);
    return;
  }
  const [, script, ...args] = environment.argv;
  environment.execve(environment.execPath, [environment.execPath, ...environment.execArgv, ...missing, script as string, ...args], environment.env);
}
