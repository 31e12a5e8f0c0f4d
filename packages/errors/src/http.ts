import { AppError, ErrorCode, toAppError } from './app-error';

const HTTP_STATUS: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  TIMEOUT: 504,
  BAD_GATEWAY: 502,
  INTERNAL: 500,
};

export const httpStatusOf = (code: ErrorCode): number => HTTP_STATUS[code];

export interface HttpErrorBody {
  error: string;
  code: ErrorCode;
  request_id?: string;
  details?: Record<string, unknown>;
}

export interface HttpErrorRendering {
  status: number;
  body: HttpErrorBody;
  headers: Record<string, string>;
}

/** The old API's shape `{"error": "..."}`, plus a stable code and the request id. */
export function renderHttpError(err: unknown, requestId?: string): HttpErrorRendering {
  const appError: AppError = toAppError(err);
  const body: HttpErrorBody = { error: appError.publicMessage, code: appError.code };
  if (requestId) body.request_id = requestId;
  if (appError.details && appError.code !== 'INTERNAL') body.details = appError.details;
  const headers: Record<string, string> = {};
  if (appError.retryAfter !== undefined)
    headers['Retry-After'] = String(Math.max(1, Math.ceil(appError.retryAfter)));
  return { status: httpStatusOf(appError.code), body, headers };
}
