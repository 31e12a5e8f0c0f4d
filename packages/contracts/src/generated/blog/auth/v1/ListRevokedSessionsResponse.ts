// Original file: ../../proto/blog/auth/v1/auth.proto

import type {
  RevokedSession as _blog_auth_v1_RevokedSession,
  RevokedSession__Output as _blog_auth_v1_RevokedSession__Output,
} from '../../../blog/auth/v1/RevokedSession';

export interface ListRevokedSessionsResponse {
  sessions?: _blog_auth_v1_RevokedSession[];
  next_cursor?: string;
  has_more?: boolean;
  reset?: boolean;
}

export interface ListRevokedSessionsResponse__Output {
  sessions: _blog_auth_v1_RevokedSession__Output[];
  next_cursor: string;
  has_more: boolean;
  reset: boolean;
}
