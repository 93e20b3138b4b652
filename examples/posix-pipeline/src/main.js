import { mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { compress, listInto, shellWith } from './jobs.js';

const workdir = process.argv[2];
if (!workdir) {
  console.error('usage: node out/main.js WORKDIR');
  process.exit(2);
}
mkdirSync(workdir, { recursive: true });

const listing = path.join(workdir, 'listing.txt');
const listed = await listInto('/', listing);
console.log(`ls exited ${listed.exitCode}: ${readdirSync('/').length} entries in /`);

const gz = path.join(workdir, 'listing.txt.gz');
const zipped = await compress(listing, gz);
console.log(`gzip exited ${zipped.exitCode}: ${statSync(gz).size > 0 ? 'non-empty' : 'empty'} archive`);

const shell = await shellWith('GREETING', 'hello from the child', 'echo "$GREETING"; exit 4');
console.log(`sh exited ${shell.exitCode}`);
