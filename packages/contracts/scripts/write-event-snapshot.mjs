// Records the event payload contracts (from dist/: run `pnpm run build` first) in
// event-payloads.snapshot.json, the baseline that src/event-payloads.test.ts compares the schemas
// with. Refuses a breaking change unless `--allow-breaking` is given.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import prettier from 'prettier';
import contracts from '../dist/index.js';

const file = new URL('../event-payloads.snapshot.json', import.meta.url);
const current = contracts.describePayloads();
if (existsSync(file)) {
  const problems = contracts.breakingChanges(JSON.parse(readFileSync(file, 'utf8')), current);
  if (problems.length > 0 && !process.argv.includes('--allow-breaking')) {
    process.stderr.write(`breaking changes, snapshot not written:\n  ${problems.join('\n  ')}\n`);
    process.exit(1);
  }
}
const options = { ...(await prettier.resolveConfig(file)), parser: 'json' };
writeFileSync(file, await prettier.format(JSON.stringify(current, null, 2), options));
process.stdout.write('wrote event-payloads.snapshot.json\n');
