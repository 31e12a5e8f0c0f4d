/**
 * One error family for every service. The `code` is stable and machine-readable; the message is
 * what clients see (and, where the old API fixed it, part of the contract).
 */
export const ERROR_CODES = [
  'BAD_REQUEST',
  'VALIDATION_FAILED',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'RATE_LIMITED',
  'UNAVAILABLE',
  'TIMEOUT',
  'BAD_GATEWAY',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface AppErrorOptions {
  details?: Record<string, unknown>;
  cause?: unknown;
  /** Seconds, for RATE_LIMITED and UNAVAILABLE. */
  retryAfter?: number;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;
  readonly retryAfter?: number;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.details = options.details;
    this.retryAfter = options.retryAfter;
  }

  /** Internal errors never show their own message to clients. */
  get publicMessage(): string {
    return this.code === 'INTERNAL' ? 'internal server error' : this.message;
  }
}

export const isAppError = (err: unknown): err is AppError => err instanceof AppError;

export const badRequest = (message: string, o?: AppErrorOptions) => new AppError('BAD_REQUEST', message, o);
export const validationFailed = (message: string, o?: AppErrorOptions) =>
  new AppError('VALIDATION_FAILED', message, o);
export const unauthenticated = (message = 'invalid token', o?: AppErrorOptions) =>
  new AppError('UNAUTHENTICATED', message, o);
export const forbidden = (message: string, o?: AppErrorOptions) => new AppError('FORBIDDEN', message, o);
export const notFound = (message: string, o?: AppErrorOptions) => new AppError('NOT_FOUND', message, o);
export const conflict = (message: string, o?: AppErrorOptions) => new AppError('CONFLICT', message, o);
export const payloadTooLarge = (message: string, o?: AppErrorOptions) =>
  new AppError('PAYLOAD_TOO_LARGE', message, o);
export const unsupportedMediaType = (message: string, o?: AppErrorOptions) =>
  new AppError('UNSUPPORTED_MEDIA_TYPE', message, o);
export const rateLimited = (message: string, retryAfter: number) =>
  new AppError('RATE_LIMITED', message, { retryAfter });
export const unavailable = (message: string, o?: AppErrorOptions) => new AppError('UNAVAILABLE', message, o);
export const timeout = (message: string, o?: AppErrorOptions) => new AppError('TIMEOUT', message, o);
export const internal = (message = 'internal server error', o?: AppErrorOptions) =>
  new AppError('INTERNAL', message, o);

/** Anything thrown becomes an AppError; unknown errors become INTERNAL and keep the original as cause. */
/** Socket-level failures: a dependency (database, cache, broker) is out of reach. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);
/**
 * PostgreSQL SQLSTATEs that mean the server cannot serve now: connection exceptions, shutdown, too
 * many connections, and a statement cancelled (57014, e.g. past the pool's `statement_timeout`).
 */
const UNAVAILABLE_SQLSTATE = /^(08|57P0[1-3]|53300|57014)/;
const UNREACHABLE_MESSAGES = [
  'Connection terminated',
  'Connection ended unexpectedly',
  'Timeout acquiring a connection',
  'Client has encountered a connection error',
];

/**
 * Whether an error that is not ours says a dependency is unreachable (the database restarting, a
 * broken pool connection), which is worth a retry: a 503, not a 500.
 */
export function isDependencyUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; depth++) {
    const { code } = e as { code?: unknown };
    if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code)))
      return true;
    if (UNREACHABLE_MESSAGES.some((m) => e instanceof Error && e.message.includes(m))) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

export function toAppError(err: unknown): AppError {
  if (isAppError(err)) return err;
  if (isDependencyUnavailable(err))
    return unavailable('service temporarily unavailable, try again later', { cause: err });
  return internal('internal server error', { cause: err });
}
