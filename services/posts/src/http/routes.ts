import { Router, type Request } from 'express';
import type { TraceContext } from '@mpb/contracts';
import { badRequest } from '@mpb/errors';
import { optionalAuth, requireAuth, validate, type TokenVerifier } from '@mpb/service-kit';
import { pageLinks } from '../domain/pagination';
import { parseId } from '../domain/post';
import { ANONYMOUS, Messages, type PostsService } from '../domain/posts-service';
import {
  createPostSchema,
  parseListQuery,
  toNewPostInput,
  toPostChanges,
  updatePostSchema,
} from '../domain/validation';

export interface RouteDeps {
  posts: PostsService;
  verifier: TokenVerifier;
}

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** W3C trace context of the request, carried into the events it causes. */
function traceOf(req: Request): TraceContext {
  const traceparent = req.headers.traceparent;
  if (typeof traceparent !== 'string' || !TRACEPARENT.test(traceparent)) return {};
  const tracestate = req.headers.tracestate;
  return typeof tracestate === 'string' && tracestate.length <= 512
    ? { traceparent, tracestate }
    : { traceparent };
}

/** express.json leaves the body undefined when there is none; validation then names the missing fields. */
const bodyOf = (req: Request): unknown => req.body ?? {};

function postIdOf(req: Request): number {
  const id = parseId(req.params.id);
  if (id === undefined) throw badRequest(Messages.invalidPostId);
  return id;
}

const queryStringOf = (req: Request): string => {
  const at = req.originalUrl.indexOf('?');
  return at === -1 ? '' : req.originalUrl.slice(at + 1);
};

export function postRoutes({ posts, verifier }: RouteDeps): Router {
  const router = Router();
  const authenticated = requireAuth(verifier);

  // The body stays the bare array of the old API; paging travels in headers.
  router.get('/api/posts', async (req, res) => {
    const query = parseListQuery(req.query as Record<string, unknown>);
    const page = await posts.list(query);
    res
      .set('X-Total-Count', String(page.total))
      .set('Link', pageLinks({ path: req.path, search: queryStringOf(req), query, total: page.total }))
      .json(page.items);
  });

  // Every read is a view, so no cache may answer it.
  router.get('/api/posts/:id', optionalAuth(verifier), async (req, res) => {
    const id = postIdOf(req);
    const post = await posts.view(id, res.locals.user?.id ?? ANONYMOUS, { countView: req.method !== 'HEAD' });
    res.set('Cache-Control', 'no-store').json(post);
  });

  // Protected routes check the token before the body, as the old API did.
  router.post('/api/posts', authenticated, async (req, res) => {
    const input = toNewPostInput(validate(createPostSchema, bodyOf(req)));
    const post = await posts.create(res.locals.user!.id, input, traceOf(req));
    res.status(201).location(`/api/posts/${post.id}`).json(post);
  });

  router.put('/api/posts/:id', authenticated, async (req, res) => {
    const id = postIdOf(req);
    const changes = toPostChanges(validate(updatePostSchema, bodyOf(req)));
    res.json(await posts.update(res.locals.user!.id, id, changes, traceOf(req)));
  });

  router.delete('/api/posts/:id', authenticated, async (req, res) => {
    await posts.remove(res.locals.user!.id, postIdOf(req), traceOf(req));
    res.status(204).end();
  });

  return router;
}
