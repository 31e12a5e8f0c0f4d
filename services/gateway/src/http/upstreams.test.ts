import type { LookupAddress } from 'node:dns';
import { addressPicker, RESOLVE_EVERY_MS } from './upstreams';

/** A resolver answering from a table the test changes, counting its lookups. */
function fakeDns(table: Record<string, LookupAddress[]>) {
  const calls: string[] = [];
  const resolve = (host: string, done: (err: Error | null, a: LookupAddress[]) => void) => {
    calls.push(host);
    const found = table[host];
    if (found) done(null, found);
    else done(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }), []);
  };
  return { resolve, calls };
}

const v4 = (address: string): LookupAddress => ({ address, family: 4 });

describe('addressPicker', () => {
  it('spreads consecutive requests over every address of the name, in turn', () => {
    const dns = fakeDns({ posts: [v4('10.0.0.7'), v4('10.0.0.5'), v4('10.0.0.6')] });
    const pick = addressPicker('http://posts:3000', dns.resolve);
    const seen = Array.from({ length: 6 }, () => pick());
    expect(new Set(seen)).toEqual(
      new Set(['http://10.0.0.5:3000', 'http://10.0.0.6:3000', 'http://10.0.0.7:3000']),
    );
    // In turn: no address twice before every other one had a request.
    expect(seen.slice(0, 3)).toEqual(seen.slice(3));
  });

  it('keeps the URL as it is for one address, an IP, localhost or a failed lookup', () => {
    const dns = fakeDns({ one: [v4('10.0.0.9')] });
    expect(addressPicker('http://one:3000', dns.resolve)()).toBe('http://one:3000');
    expect(addressPicker('http://missing:3000', dns.resolve)()).toBe('http://missing:3000');
    expect(addressPicker('http://127.0.0.1:3002', dns.resolve)()).toBe('http://127.0.0.1:3002');
    expect(addressPicker('http://localhost:3002', dns.resolve)()).toBe('http://localhost:3002');
    expect(dns.calls).toEqual(['one', 'missing']);
  });

  it('keeps a path prefix and brackets IPv6 addresses', () => {
    const dns = fakeDns({ s: [v4('10.0.0.1'), { address: 'fd00::2', family: 6 }] });
    const pick = addressPicker('http://s:3000/base', dns.resolve);
    expect(new Set([pick(), pick()])).toEqual(
      new Set(['http://10.0.0.1:3000/base', 'http://[fd00::2]:3000/base']),
    );
  });

  it('resolves again after RESOLVE_EVERY_MS, so replicas that come or go are seen', () => {
    let clock = 1_000_000;
    const table = { posts: [v4('10.0.0.5'), v4('10.0.0.6')] };
    const dns = fakeDns(table);
    const pick = addressPicker('http://posts:3000', dns.resolve, () => clock);
    pick();
    table.posts = [v4('10.0.0.5'), v4('10.0.0.6'), v4('10.0.0.8')];
    clock += RESOLVE_EVERY_MS - 1;
    expect(new Set([pick(), pick(), pick()]).size).toBe(2);
    expect(dns.calls).toHaveLength(1);
    clock += 1;
    pick();
    expect(dns.calls).toHaveLength(2);
    expect(new Set([pick(), pick(), pick()])).toContain('http://10.0.0.8:3000');
  });
});
