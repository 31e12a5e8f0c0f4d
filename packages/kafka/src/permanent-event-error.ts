import { InvalidEventError } from '@mpb/contracts';

/**
 * Thrown by a handler for an event it can never process (a reference that will never exist, a
 * payload it cannot accept): the event is parked in the dead-letter topic and the consumer moves on.
 * Every other error is taken as transient and retried.
 */
export class PermanentEventError extends Error {
  readonly permanent = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentEventError';
  }
}

/** Permanent failures: our own class, or an invalid payload found by a `payloadReader` in a handler. */
export function isPermanentEventError(err: unknown): err is Error {
  if (err instanceof PermanentEventError || err instanceof InvalidEventError) return true;
  const e = err as { permanent?: unknown; name?: unknown } | null;
  return !!e && (e.permanent === true || e.name === 'InvalidEventError');
}
