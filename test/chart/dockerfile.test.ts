// The Dockerfile's structure (test/image builds it for real): a build stage (npm ci, then esbuild bundles the CLI and
// its dependencies into dist/) and a runtime stage that receives only dist/, bin/ and package.json (no node_modules),
// runs as a non-root user, and starts Node in exec form (PID 1, gets SIGTERM). Both bases are build arguments
// (scripts/image/build.sh passes locally made ones). Also checks .dockerignore keeps everything else out of the build
// context, and that the paths agree with the bundle script, bin/kconmon.js and package.json.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from './helm.ts';

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

/** Dockerfile instructions: comments dropped, `\` continuations joined. */
function parseDockerfile(text: string): { args: Map<string, string>; stages: Stage[] } {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue; // comment inside a continuation
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1).trim()} `;
      continue;
    }
    logical.push(`${current}${line}`.trim());
    current = '';
  }
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const entry of logical) {
    const match = /^(\S+)\s*(.*)$/.exec(entry) as RegExpExecArray;
    const keyword = (match[1] as string).toUpperCase();
    const rest = match[2] as string;
    if (keyword === 'FROM') {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest) as RegExpExecArray;
      stages.push({ from: from[1] as string, name: from[2], instructions: [] });
    } else if (stages.length === 0) {
      if (keyword === 'ARG') {
        const [name, value] = rest.split('=');
        args.set(name as string, value ?? '');
      }
    } else {
      (stages.at(-1) as Stage).instructions.push({ keyword, args: rest });
    }
  }
  return { args, stages };
}

const dockerfile = parseDockerfile(readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8'));

function stage(name: string): Stage {
  const found = dockerfile.stages.find((s) => s.name === name);
  assert.ok(found, `no stage named ${name}`);
  return found;
}

function runs(s: Stage): string[] {
  return s.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
}

function copies(s: Stage): Instruction[] {
  return s.instructions.filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD');
}

const runtime = dockerfile.stages.at(-1) as Stage;

describe('Dockerfile', () => {
  it('has a build and a final runtime stage, both on Node 24 by default, the bases being build arguments', () => {
    assert.deepEqual(
      dockerfile.stages.map((s) => s.name),
      ['build', 'runtime'],
    );
    // Dockerfile variable references, literally.
    const buildImageArg = '$' + '{BUILD_IMAGE}';
    const nodeImageArg = '$' + '{NODE_IMAGE}';
    assert.equal(stage('build').from, buildImageArg);
    assert.equal(runtime.from, nodeImageArg);
    assert.equal(dockerfile.args.get('BUILD_IMAGE'), nodeImageArg, 'the build stage defaults to the runtime base');
    assert.match(dockerfile.args.get('NODE_IMAGE') as string, /^node:24(-bookworm-slim|-alpine)$/);
  });

  it('build stage: npm ci without install scripts, then the sources, then the bundle', () => {
    const build = stage('build');
    const commands = runs(build);
    assert.equal(commands.length, 2);
    assert.match(commands[0] as string, /^npm ci\b.*--ignore-scripts/);
    assert.match(commands[1] as string, /^npm run bundle$/);
    const order = build.instructions.map((i) => `${i.keyword} ${i.args}`);
    const ci = order.findIndex((i) => i.startsWith('RUN npm ci'));
    const src = order.findIndex((i) => i.startsWith('COPY src'));
    assert.ok(ci < src, 'dependencies are installed before the sources are copied (layer cache)');
  });

  it("runtime stage copies only the bundle (dist/), bin/, package.json and the web view's files (web/): no node_modules", () => {
    assert.deepEqual(
      copies(runtime).map((c) => c.args),
      ['--from=build /app/dist ./dist', 'package.json ./', 'bin ./bin', 'web ./web'],
    );
    assert.deepEqual(runs(runtime), [], 'no npm install (or anything else) in the runtime stage');
    assert.ok(!copies(runtime).some((c) => /node_modules/.test(c.args)), 'no dependency directory reaches the runtime');
  });

  it('runs as a non-root user, set numerically before the entrypoint', () => {
    const users = runtime.instructions.filter((i) => i.keyword === 'USER');
    assert.equal(users.length, 1);
    const user = (users[0] as Instruction).args;
    assert.match(user, /^[0-9]+(:[0-9]+)?$/, 'numeric, so runAsNonRoot can verify it');
    assert.notEqual(user.split(':')[0], '0');
    const index = (keyword: string) => runtime.instructions.findIndex((i) => i.keyword === keyword);
    assert.ok(index('USER') > Math.max(...runtime.instructions.map((i, n) => (i.keyword === 'COPY' ? n : -1))));
    assert.ok(index('USER') < index('ENTRYPOINT'));
  });

  it('starts Node in exec form (PID 1 gets SIGTERM) with the agent as default command', () => {
    const entrypoint = runtime.instructions.find((i) => i.keyword === 'ENTRYPOINT') as Instruction;
    const cmd = runtime.instructions.find((i) => i.keyword === 'CMD') as Instruction;
    assert.deepEqual(JSON.parse(entrypoint.args), ['node', 'bin/kconmon.js']);
    assert.deepEqual(JSON.parse(cmd.args), ['agent']);
    const env = runtime.instructions.filter((i) => i.keyword === 'ENV').map((i) => i.args);
    assert.ok(env.includes('NODE_ENV=production'));
    const expose = runtime.instructions.filter((i) => i.keyword === 'EXPOSE').flatMap((i) => i.args.split(/\s+/));
    assert.deepEqual(expose.sort(), ['8080/tcp', '8080/udp']);
    const healthchecks = runtime.instructions.filter((i) => i.keyword === 'HEALTHCHECK');
    for (const check of healthchecks) assert.match(check.args, /^(NONE|.*CMD \[)/, 'a HEALTHCHECK, if any, in exec form');
  });

  it('agrees with the repository: the bundle writes dist/cli.js, bin/kconmon.js loads it, package.json names the bin', () => {
    const tsconfig = JSON.parse(readFileSync(path.join(REPO_ROOT, 'tsconfig.build.json'), 'utf8')) as { compilerOptions: { outDir: string } };
    assert.equal(tsconfig.compilerOptions.outDir, 'dist', 'npm run build (tsc) and the bundle write the same dist/cli.js');
    const bundle = readFileSync(path.join(REPO_ROOT, 'scripts/image/bundle.ts'), 'utf8');
    assert.match(bundle, /entryPoints: \['src\/cli\.ts'\]/);
    assert.match(bundle, /\?\? 'dist'/);
    assert.match(readFileSync(path.join(REPO_ROOT, 'bin/kconmon.js'), 'utf8'), /import '\.\.\/dist\/cli\.js'/);
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; scripts: Record<string, string> };
    assert.equal(pkg.bin.kconmon, 'bin/kconmon.js');
    assert.equal(pkg.scripts.bundle, 'node scripts/image/bundle.ts');
  });
});

describe('.dockerignore', () => {
  const patterns = readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));

  /** Docker's rule for a path: a pattern matches it or one of its parent directories; the last match wins; `!` re-includes. */
  function inContext(entry: string): boolean {
    const parts = entry.split('/');
    const selfAndParents = parts.map((_, n) => parts.slice(0, n + 1).join('/'));
    let included = true;
    for (const pattern of patterns) {
      const negated = pattern.startsWith('!');
      const glob = (negated ? pattern.slice(1) : pattern).replace(/\/$/, '');
      const regex = new RegExp(
        `^${glob
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '[^/]*')
          .replace(/\?/g, '[^/]')}$`,
      );
      if (selfAndParents.some((candidate) => regex.test(candidate))) included = negated;
    }
    return included;
  }

  it('sends only what the Dockerfile copies', () => {
    for (const entry of ['package.json', 'package-lock.json', 'tsconfig.json', 'src', 'bin', 'scripts/image/bundle.ts']) {
      assert.ok(inContext(entry), `${entry} must be in the build context`);
    }
    const outside = ['node_modules', 'dist', 'test', 'bench', 'charts', 'deploy', 'docs', 'tools', 'scripts', 'scripts/setup', '.git', '.ci'];
    for (const entry of [...outside, 'README.md', 'Dockerfile']) {
      assert.ok(!inContext(entry), `${entry} must stay out of the build context`);
    }
  });

  it('every COPY from the context names an entry that is in it', () => {
    for (const s of dockerfile.stages) {
      for (const copy of copies(s).filter((c) => !c.args.startsWith('--from='))) {
        const sources = copy.args.split(/\s+/).slice(0, -1);
        for (const source of sources) assert.ok(inContext(source.replace(/\/$/, '')), `${s.name}: COPY ${source}`);
      }
    }
  });
});
