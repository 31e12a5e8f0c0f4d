import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadPackageDefinition, type GrpcObject } from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';
import type { ProtoGrpcType as AuthProto } from './generated/auth';
import type { ProtoGrpcType as CommentsProto } from './generated/comments';
import type { ProtoGrpcType as HealthProto } from './generated/health';
import type { ProtoGrpcType as MetricsProto } from './generated/metrics';
import type { ProtoGrpcType as PostsProto } from './generated/posts';

export type { User, User__Output } from './generated/blog/auth/v1/User';
export type { GetUserRequest } from './generated/blog/auth/v1/GetUserRequest';
export type { GetUsersRequest } from './generated/blog/auth/v1/GetUsersRequest';
export type { GetUsersResponse } from './generated/blog/auth/v1/GetUsersResponse';
export type { UserServiceHandlers, UserServiceClient } from './generated/blog/auth/v1/UserService';
export type { ListRevokedSessionsRequest } from './generated/blog/auth/v1/ListRevokedSessionsRequest';
export type {
  ListRevokedSessionsResponse,
  ListRevokedSessionsResponse__Output,
} from './generated/blog/auth/v1/ListRevokedSessionsResponse';
export type { RevokedSession, RevokedSession__Output } from './generated/blog/auth/v1/RevokedSession';
export type {
  SessionRevocationServiceHandlers,
  SessionRevocationServiceClient,
} from './generated/blog/auth/v1/SessionRevocationService';
export type { Post, Post__Output } from './generated/blog/posts/v1/Post';
export type { GetPostRequest } from './generated/blog/posts/v1/GetPostRequest';
export type { GetPostsRequest } from './generated/blog/posts/v1/GetPostsRequest';
export type { GetPostsResponse } from './generated/blog/posts/v1/GetPostsResponse';
export type { PostServiceHandlers, PostServiceClient } from './generated/blog/posts/v1/PostService';
export type { Comment, Comment__Output } from './generated/blog/comments/v1/Comment';
export type { GetCommentRequest } from './generated/blog/comments/v1/GetCommentRequest';
export type {
  CommentServiceHandlers,
  CommentServiceClient,
} from './generated/blog/comments/v1/CommentService';
export type { PostCounts, PostCounts__Output } from './generated/blog/metrics/v1/PostCounts';
export type { RecordViewRequest } from './generated/blog/metrics/v1/RecordViewRequest';
export type { GetCountsRequest } from './generated/blog/metrics/v1/GetCountsRequest';
export type { GetCountsResponse } from './generated/blog/metrics/v1/GetCountsResponse';
export type { RecordViewsRequest } from './generated/blog/metrics/v1/RecordViewsRequest';
export type { RecordViewsResponse } from './generated/blog/metrics/v1/RecordViewsResponse';
export type { RecordViewResult } from './generated/blog/metrics/v1/RecordViewResult';
export type {
  MetricsServiceHandlers,
  MetricsServiceClient,
} from './generated/blog/metrics/v1/MetricsService';
export type { HealthHandlers, HealthClient } from './generated/grpc/health/v1/Health';
export type { HealthCheckResponse } from './generated/grpc/health/v1/HealthCheckResponse';

/**
 * The one source of protos is `proto/` at the repository root. A deployed package (pnpm deploy,
 * container images) has no repository around it and uses the copy made at build time beside dist/.
 */
export const PROTO_ROOT = [
  path.resolve(__dirname, '../../../proto'),
  path.resolve(__dirname, '../proto'),
].find((p) => existsSync(path.join(p, 'grpc/health/v1/health.proto'))) as string;

export const PROTO_LOADER_OPTIONS: Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
};

const cache = new Map<string, GrpcObject>();

/**
 * Loads a proto file (once) as the package object grpc-js builds at run time. `T` is the type
 * proto-loader-gen-types generated from the same file (src/generated), which describes that object:
 * the one place where the runtime value takes its generated type.
 */
function load<T extends object>(file: string): T {
  let pkg = cache.get(file);
  if (!pkg) {
    pkg = loadPackageDefinition(loadSync(file, PROTO_LOADER_OPTIONS));
    cache.set(file, pkg);
  }
  return pkg as T;
}

export const loadAuthProto = (): AuthProto => load<AuthProto>('blog/auth/v1/auth.proto');
export const loadPostsProto = (): PostsProto => load<PostsProto>('blog/posts/v1/posts.proto');
export const loadCommentsProto = (): CommentsProto => load<CommentsProto>('blog/comments/v1/comments.proto');
export const loadMetricsProto = (): MetricsProto => load<MetricsProto>('blog/metrics/v1/metrics.proto');
export const loadHealthProto = (): HealthProto => load<HealthProto>('grpc/health/v1/health.proto');
