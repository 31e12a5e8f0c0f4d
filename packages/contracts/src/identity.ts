/** What auth and every verifier agree on about access tokens. */
export const ACCESS_TOKEN_TYPE = 'access';
export const DEFAULT_TOKEN_ISSUER = 'mpb-auth';
export const DEFAULT_TOKEN_AUDIENCE = 'mpb-api';
export const JWKS_PATH = '/.well-known/jwks.json';

/**
 * Headers a client must never be able to set: the gateway strips them before proxying. The names
 * other gateways and auth proxies use for the caller's identity are included, so a service placed
 * behind one of them later cannot be handed a client's claim.
 */
export const IDENTITY_HEADER_PATTERN =
  /^(x-user(-.*)?|x-auth(-.*)?|x-authenticated(-.*)?|x-identity(-.*)?|x-remote-user|remote-user|x-forwarded-user|x-internal(-.*)?)$/i;
