// kconmon executable entry: run the command named on the command line; a negative result means "keep running".
import { main } from './main.ts';

const code = await main(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
