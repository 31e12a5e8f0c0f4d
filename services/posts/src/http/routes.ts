import { Router, type Request } from 'express';
import {
  optionalAuth,
  parsePageRequest,
  requireAuth,
  requireId,
  setPageHeaders,
  traceContextOf,
  validate,
  type TokenVerifier,
} from '@mpb/service-kit';
import { ANONYMOUS, Messages, type PostsService } from '../domain/posts-service';
import {
  createPostSchema,
  parseListFilters,
  POSTS_PAGING,
  toNewPostInput,
  toPostChanges,
  updatePostSchema,
} from './request-schemas';

export interface RouteDeps {
  posts: PostsService;
  verifier: TokenVerifier;
}

/** express.json leaves the body undefined when there is none; validation then names the missing fields. */
const bodyOf = (req: Request): unknown => req.body ?? {};

const postIdOf = (req: Request): number => requireId(req.params.id, Messages.invalidPostId);

export function postRoutes({ posts, verifier }: RouteDeps): Router {
  const router = Router();
  const authenticated = requireAuth(verifier);

  // The body stays the bare array of the old API; paging travels in headers.
  router.get('/api/posts', async (req, res) => {
    const request = parsePageRequest(req.query, POSTS_PAGING);
    const filters = parseListFilters(req.query as Record<string, unknown>);
    const page = await posts.list({ ...request, ...filters });
    const params: Record<string, string> = {};
    if (filters.tag !== undefined) params.tag = filters.tag;
    if (filters.userId !== undefined) params.user_id = String(filters.userId);
    setPageHeaders(req, res, { request, total: page.total, params }).json(page.items);
  });

  // Every read is a view, so no cache may answer it. An anonymous reader is named by its client
  // address (req.ip under the app's trust setting, see client-address.ts) for view deduplication.
  router.get('/api/posts/:id', optionalAuth(verifier), async (req, res) => {
    const id = postIdOf(req);
    const countView = req.method !== 'HEAD';
    let recorded = countView;
    const post = await posts.view(id, res.locals.user?.id ?? ANONYMOUS, {
      countView,
      address: req.ip ?? req.socket.remoteAddress ?? '',
      onViewNotRecorded: () => {
        recorded = false;
      },
    });
    // The post is served even when metrics is down; the client learns whether this read counted a
    // view (false: the reader was counted already within the window, or metrics did not confirm).
    if (countView) res.set('X-View-Recorded', String(recorded));
    res.set('Cache-Control', 'no-store').json(post);
  });

  // Protected routes check the token before the body, as the old API did.
  router.post('/api/posts', authenticated, async (req, res) => {
    const input = toNewPostInput(validate(createPostSchema, bodyOf(req)));
    const post = await posts.create(res.locals.user!.id, input, traceContextOf(req));
    res.status(201).location(`/api/posts/${post.id}`).json(post);
  });

  router.put('/api/posts/:id', authenticated, async (req, res) => {
    const id = postIdOf(req);
    const changes = toPostChanges(validate(updatePostSchema, bodyOf(req)));
    res.json(await posts.update(res.locals.user!.id, id, changes, traceContextOf(req)));
  });

  router.delete('/api/posts/:id', authenticated, async (req, res) => {
    await posts.remove(res.locals.user!.id, postIdOf(req), traceContextOf(req));
    res.status(204).end();
  });

  return router;
}
