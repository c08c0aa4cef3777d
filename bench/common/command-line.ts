// The benchmarks' command lines, handled one way: the Node ≥ 24 they need (type stripping) checked first, `--help`
// (usage on stdout, exit status 0), a bad option (the error, then the usage, on stderr, exit status 2); and the
// integer options they share, read strictly.
export class HelpRequested extends Error {}

/** The options `parse` reads (it throws HelpRequested for --help), or the exit status when there is nothing to run. */
export function readCommandLine<Options extends object>(name: string, usage: string, parse: () => Options): Options | number {
  if (Number(process.versions.node.split('.')[0]) < 24) {
    console.error(`${name} needs Node ≥ 24 (this is ${process.version}); run it with node_modules/.bin/node or npm run`);
    return 2;
  }
  try {
    return parse();
  } catch (error) {
    if (error instanceof HelpRequested) {
      process.stdout.write(usage);
      return 0;
    }
    console.error(`${(error as Error).message}\n\n${usage}`);
    return 2;
  }
}

/** An integer option's value, or an error naming the flag, the range and what was given. */
export function integerOption(text: string, flag: string, min: number, max: number): number {
  const value = Number(text.trim());
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${flag}: must be an integer from ${min} to ${max} (got "${text}")`);
  return value;
}
