// Run by each package's build after tsc: writes a CommonJS twin (NAME.d.cts) of every declaration file in
// dist/types, with relative imports pointing at the twins, for the "require" condition of the exports map. One .d.ts
// for both would make TypeScript read the CommonJS entry's types as ESM (type: module), which arethetypeswrong
// calls "masquerading as ESM".
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const dir = path.resolve('dist', 'types');
const relativeJs = /((?:from|import)\s*\(?\s*)(['"])(\.{1,2}\/[^'"]*?)\.js\2/g;

for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.d.ts')) continue;
  const file = path.join(entry.parentPath, entry.name);
  const source = readFileSync(file, 'utf8').replace(relativeJs, '$1$2$3.cjs$2');
  writeFileSync(file.replace(/\.d\.ts$/, '.d.cts'), source);
}
