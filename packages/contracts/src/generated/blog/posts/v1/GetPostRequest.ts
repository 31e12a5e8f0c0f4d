// Original file: ../../proto/blog/posts/v1/posts.proto

import type { Long } from '@grpc/proto-loader';

export interface GetPostRequest {
  id?: number | string | Long;
  include_deleted?: boolean;
}

export interface GetPostRequest__Output {
  id: number;
  include_deleted: boolean;
}
