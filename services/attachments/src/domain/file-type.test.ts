import { nameContradicts, PlainTextCheck, sniffType, typeOfExtension } from './file-type';

const bytes = (...b: number[]) => Buffer.from(b);

describe('sniffType', () => {
  it.each([
    ['PNG', bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0), 'image/png'],
    ['JPEG', bytes(0xff, 0xd8, 0xff, 0xe0, 0, 0x10), 'image/jpeg'],
    ['GIF87a', Buffer.from('GIF87a....'), 'image/gif'],
    ['GIF89a', Buffer.from('GIF89a....'), 'image/gif'],
    ['WebP', Buffer.from('RIFF\x10\x00\x00\x00WEBPVP8 '), 'image/webp'],
    ['PDF', Buffer.from('%PDF-1.4\n'), 'application/pdf'],
    ['ASCII text', Buffer.from('hello\tworld\r\n'), 'text/plain'],
    ['UTF-8 text with a BOM', Buffer.from('\ufeffпривет, 世界'), 'text/plain'],
  ])('recognises %s', (_name, head, type) => {
    expect(sniffType(head)).toBe(type);
  });

  it.each([
    ['ELF', bytes(0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0)],
    ['HTML', Buffer.from('<!DOCTYPE html><p>hi')],
    ['HTML in capitals after text', Buffer.from('hello\n<HTML><body>')],
    ['a script', Buffer.from('x <script>alert(1)</script>')],
    ['SVG', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>')],
    ['XML', Buffer.from('<?xml version="1.0"?><a/>')],
    ['NUL bytes', Buffer.from('abc\u0000def')],
    ['invalid UTF-8', bytes(0x61, 0xc3, 0x28)],
    ['RIFF that is not WebP', Buffer.from('RIFF\x10\x00\x00\x00WAVEfmt ')],
  ])('refuses %s', (_name, head) => {
    expect(sniffType(head)).toBeUndefined();
  });
});

describe('PlainTextCheck', () => {
  it('accepts a character split between chunks', () => {
    const euro = Buffer.from('€');
    const check = new PlainTextCheck();
    expect(check.push(euro.subarray(0, 1))).toBe(true);
    expect(check.push(euro.subarray(1))).toBe(true);
    expect(check.end()).toBe(true);
  });

  it('refuses a control character in a later chunk and a truncated character at the end', () => {
    const control = new PlainTextCheck();
    expect(control.push(Buffer.from('fine'))).toBe(true);
    expect(control.push(Buffer.from('\u0007'))).toBe(false);
    const truncated = new PlainTextCheck();
    expect(truncated.push(Buffer.from('€').subarray(0, 2))).toBe(true);
    expect(truncated.end()).toBe(false);
  });
});

describe('extensions', () => {
  it('maps the known extensions and ignores the rest', () => {
    expect(typeOfExtension('A.JPEG')).toBe('image/jpeg');
    expect(typeOfExtension('notes.txt')).toBe('text/plain');
    expect(typeOfExtension('archive.tar.gz')).toBeUndefined();
    expect(typeOfExtension('README')).toBeUndefined();
  });

  it('flags a name that claims another allowed type, not an unknown extension', () => {
    expect(nameContradicts('photo.png', 'application/pdf')).toBe(true);
    expect(nameContradicts('photo.jpg', 'image/jpeg')).toBe(false);
    expect(nameContradicts('data.bin', 'image/png')).toBe(false);
  });
});
