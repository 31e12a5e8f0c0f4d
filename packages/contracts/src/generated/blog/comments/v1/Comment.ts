// Original file: ../../proto/blog/comments/v1/comments.proto

import type { Long } from '@grpc/proto-loader';

export interface Comment {
  id?: number | string | Long;
  post_id?: number | string | Long;
  user_id?: number | string | Long;
  text?: string;
  deleted?: boolean;
  created_at?: string;
  updated_at?: string;
}

export interface Comment__Output {
  id: number;
  post_id: number;
  user_id: number;
  text: string;
  deleted: boolean;
  created_at: string;
  updated_at: string;
}
