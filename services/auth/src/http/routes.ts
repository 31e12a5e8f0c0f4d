import { Router, type Request, type RequestHandler } from 'express';
import { JWKS_PATH } from '@mpb/contracts';
import { requireAuth, requireId, traceContextOf, validate, type TokenVerifier } from '@mpb/service-kit';
import type { AuthService } from '../domain/auth-service';
import type { Keyring } from '../domain/ports';
import { toOwnProfile, toPublicProfile } from '../domain/user';
import { loginSchema, logoutSchema, refreshSchema, registerSchema } from './request-schemas';

export interface RouteDeps {
  auth: AuthService;
  keyring: Keyring;
  verifier: TokenVerifier;
  logoutVerifier: TokenVerifier;
}

/** express.json leaves the body undefined when there is none; validation then names the missing fields. */
const bodyOf = (req: Request): unknown => req.body ?? {};

export function authRoutes({ auth, keyring, verifier, logoutVerifier }: RouteDeps): Router {
  const router = Router();
  const authenticated = requireAuth(verifier);

  router.post('/api/auth/register', async (req, res) => {
    await auth.register(validate(registerSchema, bodyOf(req)), traceContextOf(req));
    res.status(201).json({ message: 'User created successfully' });
  });

  router.post('/api/auth/login', async (req, res) => {
    const { accessToken, refreshToken, user } = await auth.login(validate(loginSchema, bodyOf(req)));
    res
      .set('Cache-Control', 'no-store')
      .json({ token: accessToken, refresh_token: refreshToken, user: toOwnProfile(user) });
  });

  router.post('/api/auth/refresh', async (req, res) => {
    const { refresh_token } = validate(refreshSchema, bodyOf(req));
    const { accessToken, refreshToken } = await auth.refresh(refresh_token);
    res.set('Cache-Control', 'no-store').json({ access_token: accessToken, refresh_token: refreshToken });
  });

  // The token is checked before the body, as the old API did. Repeating a logout answers 204 again.
  router.post('/api/auth/logout', requireAuth(logoutVerifier), async (req, res) => {
    validate(logoutSchema, bodyOf(req));
    const user = res.locals.user!;
    await auth.logout(user.id, user.sessionId);
    res.status(204).end();
  });

  router.get('/api/auth/me', authenticated, async (_req, res) => {
    const user = await auth.activeUser(res.locals.user!.id);
    res.set('Cache-Control', 'no-store').json(toOwnProfile(user));
  });

  router.get('/api/users/:id', async (req, res) => {
    const id = requireId(req.params.id, 'invalid user id');
    res.json(toPublicProfile(await auth.activeUser(id)));
  });

  const jwks: RequestHandler = async (_req, res) => {
    res.set('Cache-Control', 'public, max-age=60').json({ keys: await keyring.publicKeys() });
  };
  router.get(JWKS_PATH, jwks);
  router.get('/api/auth/jwks', jwks);

  return router;
}
