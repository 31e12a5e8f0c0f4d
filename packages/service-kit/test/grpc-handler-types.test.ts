import { loadPostsProto } from '@mpb/contracts';
import type { UnaryHandlers } from '../src';

// The `@ts-expect-error` lines below are checked by `tsc` (the package's typecheck, which covers
// test/): if GrpcServer.add's handlers lost their typing, each would compile and tsc would fail on
// the unused directive.
const definition = loadPostsProto().blog.posts.v1.PostService.service;
type PostHandlers = UnaryHandlers<typeof definition>;

const handlers: PostHandlers = {
  GetPost: async (request) => ({ id: Number(request.id), title: 'a post', deleted: request.include_deleted }),
  GetPosts: async (request) => ({ posts: request.ids.map((id) => ({ id: Number(id) })) }),
};

const misspelt: PostHandlers = {
  ...handlers,
  // @ts-expect-error an RPC the service does not declare
  GetPostz: async () => ({}),
};

// @ts-expect-error an RPC the service declares is missing
const missing: PostHandlers = { GetPost: handlers.GetPost };

const wrongResponse: PostHandlers = {
  ...handlers,
  // @ts-expect-error GetPosts answers { posts: Post[] }, not a list
  GetPosts: async () => [{ id: 1 }],
};

const wrongField: PostHandlers = {
  ...handlers,
  // @ts-expect-error a Post's title is a string
  GetPost: async () => ({ id: 1, title: 42 }),
};

describe('gRPC handler typing', () => {
  it('names exactly the RPCs of the generated service definition', () => {
    expect(Object.keys(handlers).sort()).toEqual(Object.keys(definition).sort());
    expect([misspelt, missing, wrongResponse, wrongField]).toHaveLength(4);
  });
});
