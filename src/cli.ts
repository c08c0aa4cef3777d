// kconmon executable entry: run the command named on the command line; a negative result means "keep running".
// Long-running commands first re-execute themselves with the V8 flags they need (util/runtime-flags.ts), before the
// rest of the program is loaded.
import { relaunchWithRuntimeFlags } from './util/runtime-flags.ts';

relaunchWithRuntimeFlags({
  command: process.argv[2],
  execPath: process.execPath,
  execArgv: process.execArgv,
  argv: process.argv,
  env: process.env,
  execve: typeof process.execve === 'function' ? process.execve.bind(process) : undefined,
  warn: (line) => console.error(line),
});

const { main } = await import('./main.ts');
main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
