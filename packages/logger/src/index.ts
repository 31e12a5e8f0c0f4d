import pino, { type Logger, type LoggerOptions } from 'pino';
import { activeTraceIds } from '@mpb/telemetry';

export type { Logger } from 'pino';

/** Keys whose values never reach a log line, wherever they appear (two levels deep). */
const SECRET_KEYS = [
  'authorization',
  'cookie',
  'set-cookie',
  'password',
  'password_hash',
  'token',
  'access_token',
  'refresh_token',
  'secret',
  'private_key',
];
const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [
  k,
  `*.${k}`,
  `*.*.${k}`,
  `req.headers.${k}`,
  `res.headers.${k}`,
]).map((p) => p.replace(/\.([a-z_]*-[a-z-]*)$/, '["$1"]'));

export interface LoggerConfig {
  service: string;
  level?: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to read lines back. */
  destination?: pino.DestinationStream;
}

export function createLogger({ service, level = 'info', destination }: LoggerConfig): Logger {
  const options: LoggerOptions = {
    level,
    base: { service },
    messageKey: 'msg',
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
    serializers: { err: pino.stdSerializers.err },
    // Every line written inside a request or a traced event names its request and trace.
    mixin: activeTraceIds,
  };
  return destination ? pino(options, destination) : pino(options);
}

/** Error details for logs: type and message, the stack only at debug level. */
export function errorFields(err: unknown, withStack = false): Record<string, unknown> {
  // `error`, not `err`: pino's err serializer would rewrite this plain object.
  if (!(err instanceof Error)) return { error: { message: String(err) } };
  const error: Record<string, unknown> = { type: err.name, message: err.message };
  if (withStack) error.stack = err.stack;
  return { error };
}
