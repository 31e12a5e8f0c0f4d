// Original file: ../../proto/blog/comments/v1/comments.proto

import type * as grpc from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import type {
  Comment as _blog_comments_v1_Comment,
  Comment__Output as _blog_comments_v1_Comment__Output,
} from '../../../blog/comments/v1/Comment';
import type {
  GetCommentRequest as _blog_comments_v1_GetCommentRequest,
  GetCommentRequest__Output as _blog_comments_v1_GetCommentRequest__Output,
} from '../../../blog/comments/v1/GetCommentRequest';

export interface CommentServiceClient extends grpc.Client {
  GetComment(
    argument: _blog_comments_v1_GetCommentRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_blog_comments_v1_Comment__Output>,
  ): grpc.ClientUnaryCall;
  GetComment(
    argument: _blog_comments_v1_GetCommentRequest,
    metadata: grpc.Metadata,
    callback: grpc.requestCallback<_blog_comments_v1_Comment__Output>,
  ): grpc.ClientUnaryCall;
  GetComment(
    argument: _blog_comments_v1_GetCommentRequest,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_blog_comments_v1_Comment__Output>,
  ): grpc.ClientUnaryCall;
  GetComment(
    argument: _blog_comments_v1_GetCommentRequest,
    callback: grpc.requestCallback<_blog_comments_v1_Comment__Output>,
  ): grpc.ClientUnaryCall;
  getComment(
    argument: _blog_comments_v1_GetCommentRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_blog_comments_v1_Comment__Output>,
  ): grpc.ClientUnaryCall;
  getComment(
    argument: _blog_comments_v1_GetCommentRequest,
    metadata: grpc.Metadata,
    callback: grpc.requestCallback<_blog_comments_v1_Comment__Output>,
  ): grpc.ClientUnaryCall;
  getComment(
    argument: _blog_comments_v1_GetCommentRequest,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_blog_comments_v1_Comment__Output>,
  ): grpc.ClientUnaryCall;
  getComment(
    argument: _blog_comments_v1_GetCommentRequest,
    callback: grpc.requestCallback<_blog_comments_v1_Comment__Output>,
  ): grpc.ClientUnaryCall;
}

export interface CommentServiceHandlers extends grpc.UntypedServiceImplementation {
  GetComment: grpc.handleUnaryCall<_blog_comments_v1_GetCommentRequest__Output, _blog_comments_v1_Comment>;
}

export interface CommentServiceDefinition extends grpc.ServiceDefinition {
  GetComment: MethodDefinition<
    _blog_comments_v1_GetCommentRequest,
    _blog_comments_v1_Comment,
    _blog_comments_v1_GetCommentRequest__Output,
    _blog_comments_v1_Comment__Output
  >;
}
