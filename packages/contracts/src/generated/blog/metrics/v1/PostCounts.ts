// Original file: ../../proto/blog/metrics/v1/metrics.proto

import type { Long } from '@grpc/proto-loader';

export interface PostCounts {
  post_id?: number | string | Long;
  likes?: number | string | Long;
  views?: number | string | Long;
  liked_by_viewer?: boolean;
  already_counted?: boolean;
}

export interface PostCounts__Output {
  post_id: number;
  likes: number;
  views: number;
  liked_by_viewer: boolean;
  already_counted: boolean;
}
