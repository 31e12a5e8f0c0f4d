// Original file: ../../proto/blog/comments/v1/comments.proto

import type { Long } from '@grpc/proto-loader';

export interface GetCommentRequest {
  id?: number | string | Long;
  include_deleted?: boolean;
}

export interface GetCommentRequest__Output {
  id: number;
  include_deleted: boolean;
}
