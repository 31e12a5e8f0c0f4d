// Original file: ../../proto/blog/auth/v1/auth.proto

import type { Long } from '@grpc/proto-loader';

export interface GetUserRequest {
  id?: number | string | Long;
}

export interface GetUserRequest__Output {
  id: number;
}
