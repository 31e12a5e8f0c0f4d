// Original file: ../../proto/blog/posts/v1/posts.proto

import type {
  Post as _blog_posts_v1_Post,
  Post__Output as _blog_posts_v1_Post__Output,
} from '../../../blog/posts/v1/Post';

export interface GetPostsResponse {
  posts?: _blog_posts_v1_Post[];
}

export interface GetPostsResponse__Output {
  posts: _blog_posts_v1_Post__Output[];
}
