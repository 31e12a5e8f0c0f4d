import { normaliseAddress, viewerKey } from './viewer';

describe('viewerKey', () => {
  it('names a signed-in viewer by user id, whatever the address', () => {
    expect(viewerKey(42, '203.0.113.9')).toBe('u42');
    expect(viewerKey(42, '')).toBe('u42');
  });

  it('names an anonymous viewer by address, and leaves one without an address undeduplicated', () => {
    expect(viewerKey(0, '203.0.113.9')).toBe('a203.0.113.9');
    expect(viewerKey(0, '')).toBeUndefined();
    expect(viewerKey(0, undefined)).toBeUndefined();
  });

  it('refuses an address that is too long or not printable', () => {
    expect(() => viewerKey(0, 'x'.repeat(65))).toThrow('invalid viewer address');
    expect(() => viewerKey(0, 'a b')).toThrow('invalid viewer address');
    expect(() => viewerKey(0, '1.2.3.4\n')).toThrow('invalid viewer address');
  });
});

describe('normaliseAddress', () => {
  it.each([
    ['203.0.113.9', '203.0.113.9'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['::FFFF:cb00:7109', '203.0.113.9'],
    ['0:0:0:0:0:ffff:203.0.113.9', '203.0.113.9'],
    ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff:ffff:ffff:fffe', '2001:db8:1:2::/64'],
    ['2001:DB8:1:2:3:4:5:6%eth0', '2001:db8:1:2::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1', 'fe80:0:0:0::/64'],
    ['unknown', 'unknown'],
  ])('%s → %s', (raw, expected) => {
    expect(normaliseAddress(raw)).toBe(expected);
  });

  it('gives every address of one /64 the same name, and neighbouring /64s different ones', () => {
    const names = new Set(
      ['2001:db8:aa:bb::1', '2001:db8:aa:bb:ffff::9', '2001:db8:aa:bb:1:2:3:4'].map(normaliseAddress),
    );
    expect(names.size).toBe(1);
    expect(normaliseAddress('2001:db8:aa:bc::1')).not.toBe(normaliseAddress('2001:db8:aa:bb::1'));
  });
});
