import type { RequestHandler } from 'express';

/**
 * The API answers JSON only: nothing may sniff it into HTML, frame it or leak its URLs in a
 * Referer. HSTS belongs to whoever terminates TLS in front of the gateway.
 */
const HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'Cross-Origin-Resource-Policy': 'same-site',
};
const ENTRIES = Object.entries(HEADERS);

export const securityHeaders: RequestHandler = (_req, res, next) => {
  for (const [name, value] of ENTRIES) res.setHeader(name, value);
  next();
};
