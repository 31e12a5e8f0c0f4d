// Original file: ../../proto/blog/posts/v1/posts.proto

import type * as grpc from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import type {
  GetPostRequest as _blog_posts_v1_GetPostRequest,
  GetPostRequest__Output as _blog_posts_v1_GetPostRequest__Output,
} from '../../../blog/posts/v1/GetPostRequest';
import type {
  GetPostsRequest as _blog_posts_v1_GetPostsRequest,
  GetPostsRequest__Output as _blog_posts_v1_GetPostsRequest__Output,
} from '../../../blog/posts/v1/GetPostsRequest';
import type {
  GetPostsResponse as _blog_posts_v1_GetPostsResponse,
  GetPostsResponse__Output as _blog_posts_v1_GetPostsResponse__Output,
} from '../../../blog/posts/v1/GetPostsResponse';
import type {
  Post as _blog_posts_v1_Post,
  Post__Output as _blog_posts_v1_Post__Output,
} from '../../../blog/posts/v1/Post';

export interface PostServiceClient extends grpc.Client {
  GetPost(
    argument: _blog_posts_v1_GetPostRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_blog_posts_v1_Post__Output>,
  ): grpc.ClientUnaryCall;
  GetPost(
    argument: _blog_posts_v1_GetPostRequest,
    metadata: grpc.Metadata,
    callback: grpc.requestCallback<_blog_posts_v1_Post__Output>,
  ): grpc.ClientUnaryCall;
  GetPost(
    argument: _blog_posts_v1_GetPostRequest,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_blog_posts_v1_Post__Output>,
  ): grpc.ClientUnaryCall;
  GetPost(
    argument: _blog_posts_v1_GetPostRequest,
    callback: grpc.requestCallback<_blog_posts_v1_Post__Output>,
  ): grpc.ClientUnaryCall;
  getPost(
    argument: _blog_posts_v1_GetPostRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_blog_posts_v1_Post__Output>,
  ): grpc.ClientUnaryCall;
  getPost(
    argument: _blog_posts_v1_GetPostRequest,
    metadata: grpc.Metadata,
    callback: grpc.requestCallback<_blog_posts_v1_Post__Output>,
  ): grpc.ClientUnaryCall;
  getPost(
    argument: _blog_posts_v1_GetPostRequest,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_blog_posts_v1_Post__Output>,
  ): grpc.ClientUnaryCall;
  getPost(
    argument: _blog_posts_v1_GetPostRequest,
    callback: grpc.requestCallback<_blog_posts_v1_Post__Output>,
  ): grpc.ClientUnaryCall;

  GetPosts(
    argument: _blog_posts_v1_GetPostsRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_blog_posts_v1_GetPostsResponse__Output>,
  ): grpc.ClientUnaryCall;
  GetPosts(
    argument: _blog_posts_v1_GetPostsRequest,
    metadata: grpc.Metadata,
    callback: grpc.requestCallback<_blog_posts_v1_GetPostsResponse__Output>,
  ): grpc.ClientUnaryCall;
  GetPosts(
    argument: _blog_posts_v1_GetPostsRequest,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_blog_posts_v1_GetPostsResponse__Output>,
  ): grpc.ClientUnaryCall;
  GetPosts(
    argument: _blog_posts_v1_GetPostsRequest,
    callback: grpc.requestCallback<_blog_posts_v1_GetPostsResponse__Output>,
  ): grpc.ClientUnaryCall;
  getPosts(
    argument: _blog_posts_v1_GetPostsRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_blog_posts_v1_GetPostsResponse__Output>,
  ): grpc.ClientUnaryCall;
  getPosts(
    argument: _blog_posts_v1_GetPostsRequest,
    metadata: grpc.Metadata,
    callback: grpc.requestCallback<_blog_posts_v1_GetPostsResponse__Output>,
  ): grpc.ClientUnaryCall;
  getPosts(
    argument: _blog_posts_v1_GetPostsRequest,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_blog_posts_v1_GetPostsResponse__Output>,
  ): grpc.ClientUnaryCall;
  getPosts(
    argument: _blog_posts_v1_GetPostsRequest,
    callback: grpc.requestCallback<_blog_posts_v1_GetPostsResponse__Output>,
  ): grpc.ClientUnaryCall;
}

export interface PostServiceHandlers extends grpc.UntypedServiceImplementation {
  GetPost: grpc.handleUnaryCall<_blog_posts_v1_GetPostRequest__Output, _blog_posts_v1_Post>;

  GetPosts: grpc.handleUnaryCall<_blog_posts_v1_GetPostsRequest__Output, _blog_posts_v1_GetPostsResponse>;
}

export interface PostServiceDefinition extends grpc.ServiceDefinition {
  GetPost: MethodDefinition<
    _blog_posts_v1_GetPostRequest,
    _blog_posts_v1_Post,
    _blog_posts_v1_GetPostRequest__Output,
    _blog_posts_v1_Post__Output
  >;
  GetPosts: MethodDefinition<
    _blog_posts_v1_GetPostsRequest,
    _blog_posts_v1_GetPostsResponse,
    _blog_posts_v1_GetPostsRequest__Output,
    _blog_posts_v1_GetPostsResponse__Output
  >;
}
