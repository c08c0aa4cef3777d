// Writes one "## Section" of a markdown file in place: replaces it if present (up to the next "## " heading), appends
// it otherwise, creates the file with a "# Benchmarks" heading if missing. Every other section is kept byte for byte.
import { readFile, writeFile } from 'node:fs/promises';

export async function writeSection(path: string, heading: string, body: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    text = '# Benchmarks\n';
  }
  await writeFile(path, replaceSection(text, heading, body));
}

/** `body` must start with the heading line itself. */
function replaceSection(text: string, heading: string, body: string): string {
  const section = body.endsWith('\n') ? body : `${body}\n`;
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line.trimEnd() === heading);
  if (start === -1) {
    const base = text.endsWith('\n') ? text : `${text}\n`;
    return `${base}\n${section}`;
  }
  let end = lines.findIndex((line, index) => index > start && /^#{1,2} /.test(line));
  if (end === -1) end = lines.length;
  const before = lines.slice(0, start).join('\n');
  const after = lines.slice(end).join('\n');
  return `${before}${before ? '\n' : ''}${section}${after ? `\n${after}` : ''}`;
}
