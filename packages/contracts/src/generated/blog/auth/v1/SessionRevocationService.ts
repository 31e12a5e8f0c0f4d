// Original file: ../../proto/blog/auth/v1/auth.proto

import type * as grpc from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import type {
  ListRevokedSessionsRequest as _blog_auth_v1_ListRevokedSessionsRequest,
  ListRevokedSessionsRequest__Output as _blog_auth_v1_ListRevokedSessionsRequest__Output,
} from '../../../blog/auth/v1/ListRevokedSessionsRequest';
import type {
  ListRevokedSessionsResponse as _blog_auth_v1_ListRevokedSessionsResponse,
  ListRevokedSessionsResponse__Output as _blog_auth_v1_ListRevokedSessionsResponse__Output,
} from '../../../blog/auth/v1/ListRevokedSessionsResponse';

export interface SessionRevocationServiceClient extends grpc.Client {
  ListRevokedSessions(
    argument: _blog_auth_v1_ListRevokedSessionsRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_blog_auth_v1_ListRevokedSessionsResponse__Output>,
  ): grpc.ClientUnaryCall;
  ListRevokedSessions(
    argument: _blog_auth_v1_ListRevokedSessionsRequest,
    metadata: grpc.Metadata,
    callback: grpc.requestCallback<_blog_auth_v1_ListRevokedSessionsResponse__Output>,
  ): grpc.ClientUnaryCall;
  ListRevokedSessions(
    argument: _blog_auth_v1_ListRevokedSessionsRequest,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_blog_auth_v1_ListRevokedSessionsResponse__Output>,
  ): grpc.ClientUnaryCall;
  ListRevokedSessions(
    argument: _blog_auth_v1_ListRevokedSessionsRequest,
    callback: grpc.requestCallback<_blog_auth_v1_ListRevokedSessionsResponse__Output>,
  ): grpc.ClientUnaryCall;
  listRevokedSessions(
    argument: _blog_auth_v1_ListRevokedSessionsRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_blog_auth_v1_ListRevokedSessionsResponse__Output>,
  ): grpc.ClientUnaryCall;
  listRevokedSessions(
    argument: _blog_auth_v1_ListRevokedSessionsRequest,
    metadata: grpc.Metadata,
    callback: grpc.requestCallback<_blog_auth_v1_ListRevokedSessionsResponse__Output>,
  ): grpc.ClientUnaryCall;
  listRevokedSessions(
    argument: _blog_auth_v1_ListRevokedSessionsRequest,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_blog_auth_v1_ListRevokedSessionsResponse__Output>,
  ): grpc.ClientUnaryCall;
  listRevokedSessions(
    argument: _blog_auth_v1_ListRevokedSessionsRequest,
    callback: grpc.requestCallback<_blog_auth_v1_ListRevokedSessionsResponse__Output>,
  ): grpc.ClientUnaryCall;
}

export interface SessionRevocationServiceHandlers extends grpc.UntypedServiceImplementation {
  ListRevokedSessions: grpc.handleUnaryCall<
    _blog_auth_v1_ListRevokedSessionsRequest__Output,
    _blog_auth_v1_ListRevokedSessionsResponse
  >;
}

export interface SessionRevocationServiceDefinition extends grpc.ServiceDefinition {
  ListRevokedSessions: MethodDefinition<
    _blog_auth_v1_ListRevokedSessionsRequest,
    _blog_auth_v1_ListRevokedSessionsResponse,
    _blog_auth_v1_ListRevokedSessionsRequest__Output,
    _blog_auth_v1_ListRevokedSessionsResponse__Output
  >;
}
