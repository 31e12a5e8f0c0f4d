// Original file: ../../proto/blog/auth/v1/auth.proto

import type {
  User as _blog_auth_v1_User,
  User__Output as _blog_auth_v1_User__Output,
} from '../../../blog/auth/v1/User';

export interface GetUsersResponse {
  users?: _blog_auth_v1_User[];
}

export interface GetUsersResponse__Output {
  users: _blog_auth_v1_User__Output[];
}
