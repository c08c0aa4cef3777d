// Bundles the kconmon CLI with esbuild for the container image: dist/cli.js plus one lazily loaded chunk per command
// (the agent still never loads the Kubernetes client), dependencies included, so the image needs no node_modules.
// bin/kconmon.js imports dist/cli.js, exactly as after `npm run build` (tsc). Usage: node scripts/image/bundle.ts [outdir]
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const outdir = path.resolve(repoRoot, process.argv[2] ?? 'dist');

await rm(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: repoRoot,
  entryPoints: ['src/cli.ts'],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  minify: true,
  // Keeps stack traces and pino/prom-client output readable.
  keepNames: true,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
  // CommonJS dependencies call require() for Node built-ins, which an ES module does not define.
  banner: { js: "import { createRequire as __kconmonCreateRequire } from 'node:module'; const require = __kconmonCreateRequire(import.meta.url);" },
});
const outputs = Object.entries(result.metafile.outputs);
const total = outputs.reduce((sum, [, output]) => sum + output.bytes, 0);
console.log(`bundled ${outputs.length} files, ${(total / 1e6).toFixed(2)} MB, into ${path.relative(repoRoot, outdir) || '.'}`);
