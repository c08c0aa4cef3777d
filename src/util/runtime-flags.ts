// The V8 flags kconmon's long-running commands need, set by the program itself. V8 sizes its young generation from the
// host's memory (up to 64 MiB of semi-space on a large node) when the heap is created, so the flag must be on Node's
// command line: `v8.setFlagsFromString` after start-up has no effect on it (measured: new space stays at 64 MiB). The
// process re-executes itself in place (`process.execve`: same PID, so it stays PID 1 in a container) with the flags
// added, unless the user gave that flag on the command line or in NODE_OPTIONS (theirs wins, and a NODE_OPTIONS that
// sets anything else no longer drops ours).

/** --max-semi-space-size=1: 1 MiB semi-spaces keep the agent's RSS low at a small, measured CPU cost. */
export const RUNTIME_FLAGS: readonly string[] = ['--max-semi-space-size=1'];

/** Commands that run for a long time and are worth a re-exec. */
const LONG_RUNNING = new Set(['agent', 'controller']);

/** Node flags from `flags` that neither the command line (`execArgv`) nor NODE_OPTIONS already sets (by name). */
export function missingRuntimeFlags(execArgv: readonly string[], nodeOptions: string | undefined, flags: readonly string[] = RUNTIME_FLAGS): string[] {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].map(flagName);
  return flags.filter((flag) => !given.includes(flagName(flag)));
}

/** `--max-semi-space-size=1` and `--max_semi_space_size 1` name the same V8 flag. */
function flagName(flag: string): string {
  return flag.split('=', 1)[0]!.replaceAll('_', '-');
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
  if (!LONG_RUNNING.has(environment.command ?? '')) return;
  const missing = missingRuntimeFlags(environment.execArgv, environment.env.NODE_OPTIONS);
  if (missing.length === 0) return;
  if (environment.execve === undefined) {
    environment.warn(`kconmon: cannot re-execute to set ${missing.join(' ')} (no process.execve); pass it to node to keep the memory figures`);
    return;
  }
  const [, script, ...args] = environment.argv;
  environment.execve(environment.execPath, [environment.execPath, ...environment.execArgv, ...missing, script as string, ...args], environment.env);
}
