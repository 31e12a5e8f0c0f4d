import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { AppError, ERROR_CODES, ErrorCode, toAppError } from './app-error';

const GRPC_STATUS: Record<ErrorCode, status> = {
  BAD_REQUEST: status.INVALID_ARGUMENT,
  VALIDATION_FAILED: status.INVALID_ARGUMENT,
  UNAUTHENTICATED: status.UNAUTHENTICATED,
  FORBIDDEN: status.PERMISSION_DENIED,
  NOT_FOUND: status.NOT_FOUND,
  CONFLICT: status.ALREADY_EXISTS,
  PAYLOAD_TOO_LARGE: status.RESOURCE_EXHAUSTED,
  UNSUPPORTED_MEDIA_TYPE: status.INVALID_ARGUMENT,
  RATE_LIMITED: status.RESOURCE_EXHAUSTED,
  UNAVAILABLE: status.UNAVAILABLE,
  TIMEOUT: status.DEADLINE_EXCEEDED,
  BAD_GATEWAY: status.UNAVAILABLE,
  INTERNAL: status.INTERNAL,
};

/** Without our own code in metadata, a caller maps the bare gRPC status back to the closest code. */
const FROM_GRPC_STATUS: Partial<Record<status, ErrorCode>> = {
  [status.INVALID_ARGUMENT]: 'BAD_REQUEST',
  [status.UNAUTHENTICATED]: 'UNAUTHENTICATED',
  [status.PERMISSION_DENIED]: 'FORBIDDEN',
  [status.NOT_FOUND]: 'NOT_FOUND',
  [status.ALREADY_EXISTS]: 'CONFLICT',
  [status.RESOURCE_EXHAUSTED]: 'RATE_LIMITED',
  [status.UNAVAILABLE]: 'UNAVAILABLE',
  [status.DEADLINE_EXCEEDED]: 'TIMEOUT',
};

const CODE_KEY = 'mpb-error-code';

export const grpcStatusOf = (code: ErrorCode): status => GRPC_STATUS[code];

export interface GrpcErrorRendering {
  code: status;
  details: string;
  metadata: Metadata;
}

export function renderGrpcError(err: unknown): GrpcErrorRendering {
  const appError = toAppError(err);
  const metadata = new Metadata();
  metadata.set(CODE_KEY, appError.code);
  return { code: grpcStatusOf(appError.code), details: appError.publicMessage, metadata };
}

const isErrorCode = (v: unknown): v is ErrorCode =>
  typeof v === 'string' && (ERROR_CODES as readonly string[]).includes(v);

/** Turns a gRPC client error back into our family, so callers handle one kind of error. */
export function fromGrpcError(err: unknown): AppError {
  const e = err as Partial<ServiceError>;
  if (typeof e?.code !== 'number') return toAppError(err);
  const fromMeta = e.metadata?.get(CODE_KEY)?.[0];
  const code: ErrorCode = isErrorCode(fromMeta)
    ? fromMeta
    : (FROM_GRPC_STATUS[e.code as status] ?? 'INTERNAL');
  const message = code === 'INTERNAL' ? 'internal server error' : (e.details ?? 'upstream error');
  return new AppError(code, message, { cause: err });
}
