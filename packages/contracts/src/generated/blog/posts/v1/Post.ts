// Original file: ../../proto/blog/posts/v1/posts.proto

import type { Long } from '@grpc/proto-loader';

export interface Post {
  id?: number | string | Long;
  user_id?: number | string | Long;
  title?: string;
  description?: string;
  tag?: string;
  deleted?: boolean;
  created_at?: string;
  updated_at?: string;
}

export interface Post__Output {
  id: number;
  user_id: number;
  title: string;
  description: string;
  tag: string;
  deleted: boolean;
  created_at: string;
  updated_at: string;
}
