import type { RequestHandler } from 'express';
import { unauthenticated } from '@mpb/errors';
import type { TokenVerifier } from '../jwt-verifier';
import './types';

const BEARER = /^bearer\s+(\S+)$/i;

/** The old API's messages: `missing token`, `invalid token format`, `invalid token`. */
export function tokenFromHeader(header: string | undefined): string {
  if (!header || header.trim() === '') throw unauthenticated('missing token');
  const match = BEARER.exec(header.trim());
  if (!match?.[1]) throw unauthenticated('invalid token format');
  return match[1];
}

export function requireAuth(verifier: TokenVerifier): RequestHandler {
  return async (req, res, next) => {
    try {
      res.locals.user = await verifier.verify(tokenFromHeader(req.headers.authorization));
      next();
    } catch (err) {
      next(err);
    }
  };
}

/** Signed-in callers get `res.locals.user`; a missing header is fine, a bad token is still a 401. */
export function optionalAuth(verifier: TokenVerifier): RequestHandler {
  return async (req, res, next) => {
    if (!req.headers.authorization) return next();
    try {
      res.locals.user = await verifier.verify(tokenFromHeader(req.headers.authorization));
      next();
    } catch (err) {
      next(err);
    }
  };
}
