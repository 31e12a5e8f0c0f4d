import type { Logger } from '@mpb/logger';

export interface AuthenticatedUser {
  id: number;
  /** The session (refresh-token family) the access token belongs to. */
  sessionId?: string;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      requestId: string;
      log: Logger;
      user?: AuthenticatedUser;
    }
  }
}
