// Where the web view's files are: web/ at the package root. This module sits directly in src/ (sources), dist/ (the tsc
// build) or a chunk of the bundle in dist/ (the image), so `../web/` is the same directory in all three; the npm
// package (`files`) and the image (Dockerfile) ship it.
import { fileURLToPath } from 'node:url';

export const WEB_FILES_DIR = fileURLToPath(new URL('../web/', import.meta.url));
