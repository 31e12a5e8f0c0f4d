// Prints where a V8 CPU profile (node --cpu-prof) spent its time: the functions with the most self
// time, and the same grouped by package (node_modules/<name>, node:internal, or the repo's own file).
//   node bench/lib/cpu-profile-top.mjs PROFILE.cpuprofile [--top 25]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '25' } },
});
const top = Number(values.top);
for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const deltas = profile.timeDeltas;
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (deltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fn = new Map();
  const pkg = new Map();
  for (const [id, us] of self) {
    const { callFrame: f } = byId.get(id);
    const name = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(services|packages)\//, '$1/')}:${f.lineNumber + 1}`;
    fn.set(name, (fn.get(name) ?? 0) + us);
    const m = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(f.url);
    const group = m
      ? m[1]
      : f.url.startsWith('node:')
        ? 'node:internal'
        : /\/(services|packages)\/([^/]+)\//.test(f.url)
          ? f.url.replace(/^.*\/(services|packages)\/([^/]+)\/.*$/, '$1/$2')
          : f.url === ''
            ? `(${f.functionName || 'native'})`
            : f.url;
    pkg.set(group, (pkg.get(group) ?? 0) + us);
  }
  const show = (title, map) => {
    console.log(`\n${title}`);
    for (const [k, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top))
      console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
  };
  console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled`);
  show('by package', pkg);
  show('by function (self time)', fn);
}
