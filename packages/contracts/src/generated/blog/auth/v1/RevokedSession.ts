// Original file: ../../proto/blog/auth/v1/auth.proto

import type { Long } from '@grpc/proto-loader';

export interface RevokedSession {
  session_id?: string;
  expires_at_unix_ms?: number | string | Long;
}

export interface RevokedSession__Output {
  session_id: string;
  expires_at_unix_ms: number;
}
