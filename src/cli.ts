// kconmon executable entry: run the command named on the command line; a negative result means "keep running".
import { main } from './main.ts';

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
