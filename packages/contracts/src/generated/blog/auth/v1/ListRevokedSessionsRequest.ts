// Original file: ../../proto/blog/auth/v1/auth.proto

export interface ListRevokedSessionsRequest {
  cursor?: string;
  limit?: number;
}

export interface ListRevokedSessionsRequest__Output {
  cursor: string;
  limit: number;
}
