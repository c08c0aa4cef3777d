#!/usr/bin/env node
// kconmon command-line entry: runs the compiled CLI (npm run build produces dist/).
import '../dist/cli.js';
