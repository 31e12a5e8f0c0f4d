// Original file: ../../proto/blog/posts/v1/posts.proto

import type { Long } from '@grpc/proto-loader';

export interface GetPostsRequest {
  ids?: (number | string | Long)[];
  include_deleted?: boolean;
}

export interface GetPostsRequest__Output {
  ids: number[];
  include_deleted: boolean;
}
