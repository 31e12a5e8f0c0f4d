/** PostgreSQL's SQLSTATE for a unique-index violation. */
export const UNIQUE_VIOLATION = '23505';

export const isUniqueViolation = (err: unknown): boolean =>
  typeof err === 'object' && err !== null && (err as { code?: unknown }).code === UNIQUE_VIOLATION;

/** Advisory-lock ids; they are scoped to auth's own database. */
export const AdvisoryLocks = {
  signingKey: 7_301_002,
  revocationFeed: 7_301_003,
} as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string): boolean => UUID.test(value);
