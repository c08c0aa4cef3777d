// `npm run generate`: writes every generated file (scripts/generate/generated-files.ts) whose content changed.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generatedFiles } from './generated-files.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
for (const file of await generatedFiles(root)) {
  const target = path.join(root, file.path);
  const current = await readFile(target).catch(() => undefined);
  if (current?.equals(file.content)) continue;
  await writeFile(target, file.content);
  console.log(`wrote ${file.path} (from ${file.source})`);
}
