import { execFileSync } from 'node:child_process';
import path from 'node:path';

const repo = path.resolve(__dirname, '../../..');
const buf = path.join(__dirname, '../node_modules/.bin/buf');

function run(args: string[]): { ok: boolean; output: string } {
  try {
    return { ok: true, output: execFileSync(buf, args, { cwd: repo, encoding: 'utf8', stdio: 'pipe' }) };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('proto contracts (buf)', () => {
  it('pass buf lint', () => {
    const r = run(['lint', 'proto']);
    expect(r.output).toBe('');
    expect(r.ok).toBe(true);
  });

  // Teams deploy services one at a time: a change to proto/ must stay wire- and JSON-compatible
  // with what main has. (On main itself this compares main with itself; on a branch it is the gate.)
  it('stay compatible with main', () => {
    const r = run(['breaking', 'proto', '--against', '.git#branch=main,subdir=proto']);
    expect(r.output).toBe('');
    expect(r.ok).toBe(true);
  });
});
