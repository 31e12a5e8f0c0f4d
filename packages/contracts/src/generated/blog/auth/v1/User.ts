// Original file: ../../proto/blog/auth/v1/auth.proto

import type { Long } from '@grpc/proto-loader';

export interface User {
  id?: number | string | Long;
  name?: string;
  username?: string;
  age?: number;
  is_active?: boolean;
  created_at?: string;
  _age?: 'age';
}

export interface User__Output {
  id: number;
  name: string;
  username: string;
  age?: number;
  is_active: boolean;
  created_at: string;
  _age?: 'age';
}
