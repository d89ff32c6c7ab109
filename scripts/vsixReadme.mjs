// The README as the installed extension shows it (Extensions view → details): the repository's
// README with each screenshot the VSIX leaves out (.vscodeignore ships only those it names, to keep
// the package small) turned into its caption, so the details page shows no broken images.
// Writes dist/vsix-README.md; `npm run package` hands it to vsce with --readme-path.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shipped = new Set(
  fs
    .readFileSync(path.join(root, '.vscodeignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('!') && !l.includes('*'))
    .map((l) => l.slice(1)),
);
let dropped = 0;
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8').replace(/!\[([^\]]*)\]\(([^)\s]+)\)/g, (whole, alt, target) => {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target) || shipped.has(target.replace(/^\.\//, ''))) return whole;
  dropped++;
  return `*Screenshot in the repository (${target}): ${alt}*`;
});
fs.mkdirSync(path.join(root, 'dist'), { recursive: true });
fs.writeFileSync(path.join(root, 'dist', 'vsix-README.md'), readme);
console.log(`vsixReadme: dist/vsix-README.md, ${dropped} screenshot(s) left to the repository`);
