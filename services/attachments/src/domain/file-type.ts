/**
 * What a file is, decided from its bytes against an allowlist. The client's Content-Type is never
 * read, and the name's extension can only refuse a file (when it names another allowed type).
 */
export const ALLOWED_TYPES = [
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'application/pdf',
  'text/plain',
] as const;
export type AllowedType = (typeof ALLOWED_TYPES)[number];

/** Bytes read before the type is decided; a shorter file is sniffed whole. */
export const SNIFF_BYTES = 1024;

const startsWith = (head: Buffer, bytes: number[], at = 0): boolean =>
  head.length >= at + bytes.length && bytes.every((b, i) => head[at + i] === b);
const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

const MAGIC: Array<{ type: AllowedType; test: (head: Buffer) => boolean }> = [
  { type: 'image/png', test: (h) => startsWith(h, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  { type: 'image/jpeg', test: (h) => startsWith(h, [0xff, 0xd8, 0xff]) },
  { type: 'image/gif', test: (h) => startsWith(h, ascii('GIF87a')) || startsWith(h, ascii('GIF89a')) },
  { type: 'image/webp', test: (h) => startsWith(h, ascii('RIFF')) && startsWith(h, ascii('WEBP'), 8) },
  { type: 'application/pdf', test: (h) => startsWith(h, ascii('%PDF-')) },
];

/** Markup a browser would render (HTML, SVG, XML) is not plain text, whatever it is called. */
const MARKUP = /<!doctype|<html|<script|<\?xml|<svg|<head|<body|<iframe/i;

/** C0 controls other than tab, LF and CR, and DEL. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/**
 * Checks plain text as it streams: valid UTF-8 (a sequence split between chunks is fine) with no
 * control characters. `push` and `end` return false once the text is refused.
 */
export class PlainTextCheck {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private ok = true;

  push(chunk: Buffer): boolean {
    if (!this.ok) return false;
    try {
      if (CONTROL.test(this.decoder.decode(chunk, { stream: true }))) this.ok = false;
    } catch {
      this.ok = false;
    }
    return this.ok;
  }

  end(): boolean {
    if (!this.ok) return false;
    try {
      this.ok = !CONTROL.test(this.decoder.decode());
    } catch {
      this.ok = false;
    }
    return this.ok;
  }
}

/**
 * The type of a file from its first bytes (up to SNIFF_BYTES), or undefined when it is none of the
 * allowed ones. text/plain is only a candidate here: the rest of the file must pass PlainTextCheck.
 */
export function sniffType(head: Buffer): AllowedType | undefined {
  for (const m of MAGIC) if (m.test(head)) return m.type;
  if (MARKUP.test(head.toString('latin1'))) return undefined;
  // The head may end inside a multi-byte character, which the streaming check allows.
  const check = new PlainTextCheck();
  return check.push(head) ? 'text/plain' : undefined;
}

const EXTENSIONS: Record<string, AllowedType> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  jpe: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  pdf: 'application/pdf',
  txt: 'text/plain',
};

/** The allowed type a file name's extension claims, if it claims one. */
export function typeOfExtension(fileName: string): AllowedType | undefined {
  const dot = fileName.lastIndexOf('.');
  if (dot < 0) return undefined;
  return EXTENSIONS[fileName.slice(dot + 1).toLowerCase()];
}

/** A name that claims another allowed type than the bytes show (`photo.png` holding a PDF). */
export const nameContradicts = (fileName: string, sniffed: AllowedType): boolean => {
  const claimed = typeOfExtension(fileName);
  return claimed !== undefined && claimed !== sniffed;
};
