import { contentDisposition, FILE_NAME_MAX_CHARS, sanitizeFileName } from './file-name';

describe('sanitizeFileName', () => {
  it.each([
    ['photo.png', 'photo.png'],
    ['../../etc/passwd', 'passwd'],
    ['C:\\Users\\me\\doc.pdf', 'doc.pdf'],
    ['dir/', 'file'],
    ['..', 'file'],
    ['...', 'file'],
    ['', 'file'],
    [undefined, 'file'],
    ['  spaced  .txt ', 'spaced  .txt'],
    ['a\u0000b\u001fc\u007fd\u0085e.txt', 'abcde.txt'],
    ['evil\u202egnp.exe', 'evilgnp.exe'],
    ['caf\u0065\u0301.txt', 'café.txt'],
  ])('%j → %j', (raw, expected) => {
    expect(sanitizeFileName(raw)).toBe(expected);
  });

  it('bounds the length in characters and keeps a short extension', () => {
    const name = sanitizeFileName(`${'ж'.repeat(300)}.pdf`);
    expect([...name]).toHaveLength(FILE_NAME_MAX_CHARS);
    expect(name.endsWith('.pdf')).toBe(true);
    expect([...sanitizeFileName('x'.repeat(300))]).toHaveLength(FILE_NAME_MAX_CHARS);
    expect([...sanitizeFileName(`a.${'y'.repeat(300)}`)]).toHaveLength(FILE_NAME_MAX_CHARS);
  });
});

describe('contentDisposition', () => {
  it('is always an attachment, with an ASCII fallback and the exact UTF-8 name', () => {
    expect(contentDisposition('a "b"\\c.txt')).toBe(
      `attachment; filename="a _b__c.txt"; filename*=UTF-8''a%20%22b%22%5Cc.txt`,
    );
    expect(contentDisposition('отчёт (1).pdf')).toBe(
      `attachment; filename="_____ (1).pdf"; filename*=UTF-8''${encodeURIComponent('отчёт')}%20%281%29.pdf`,
    );
  });
});
