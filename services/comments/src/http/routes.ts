import { Router, type Request, type Response } from 'express';
import { badRequest } from '@mpb/errors';
import { requireAuth, traceContextOf, validate, type TokenVerifier } from '@mpb/service-kit';
import { parseId, toCommentResponse, type Comment } from '../domain/comment';
import { Messages, type CommentsService, type RequestContext } from '../domain/comments-service';
import { linkHeader, parsePageRequest, type Page } from '../domain/pagination';
import { commentTextSchema, createCommentSchema } from '../domain/validation';

export interface RouteDeps {
  comments: CommentsService;
  verifier: TokenVerifier;
}

const contextOf = (req: Request, res: Response): RequestContext => ({
  trace: traceContextOf(req),
  requestId: res.locals.requestId,
});

/** express.json leaves the body undefined when there is none; validation then names the missing fields. */
const bodyOf = (req: Request): unknown => req.body ?? {};

function idParam(raw: unknown, message: string): number {
  const id = parseId(raw);
  if (id === undefined) throw badRequest(message);
  return id;
}

/** The body stays the old bare array; the total and the neighbouring pages travel in headers. */
function sendPage(req: Request, res: Response, page: Page<Comment>, params: Record<string, string>): void {
  res
    .set('X-Total-Count', String(page.total))
    .set('Link', linkHeader(req.path, params, page.request, page.total))
    .json(page.items.map(toCommentResponse));
}

export function commentRoutes({ comments, verifier }: RouteDeps): Router {
  const router = Router();
  const authenticated = requireAuth(verifier);

  router.get('/api/comments', async (req, res) => {
    const postId = idParam(req.query.post_id, Messages.invalidPostIdQuery);
    const page = await comments.listForPost(postId, parsePageRequest(req.query), contextOf(req, res));
    sendPage(req, res, page, { post_id: String(postId) });
  });

  router.get('/api/posts/:id/comments', async (req, res) => {
    const postId = idParam(req.params.id, Messages.invalidPostId);
    const page = await comments.listForPost(postId, parsePageRequest(req.query), contextOf(req, res));
    sendPage(req, res, page, {});
  });

  router.get('/api/comments/:id', async (req, res) => {
    const id = idParam(req.params.id, Messages.invalidCommentId);
    res.json(toCommentResponse(await comments.get(id, contextOf(req, res))));
  });

  // Protected routes check the token before the path and the body, as the old API did.
  router.post('/api/comments', authenticated, async (req, res) => {
    const input = validate(createCommentSchema, bodyOf(req));
    const created = await comments.create(
      { postId: input.post_id, userId: res.locals.user!.id, text: input.text },
      contextOf(req, res),
    );
    res.status(201).json(toCommentResponse(created));
  });

  router.post('/api/posts/:id/comments', authenticated, async (req, res) => {
    const postId = idParam(req.params.id, Messages.invalidPostId);
    const { text } = validate(commentTextSchema, bodyOf(req));
    const created = await comments.create({ postId, userId: res.locals.user!.id, text }, contextOf(req, res));
    res.status(201).json(toCommentResponse(created));
  });

  router.put('/api/comments/:id', authenticated, async (req, res) => {
    const id = idParam(req.params.id, Messages.invalidCommentId);
    const { text } = validate(commentTextSchema, bodyOf(req));
    const updated = await comments.update(id, res.locals.user!.id, text, contextOf(req, res));
    res.json(toCommentResponse(updated));
  });

  router.delete('/api/comments/:id', authenticated, async (req, res) => {
    const id = idParam(req.params.id, Messages.invalidCommentId);
    await comments.delete(id, res.locals.user!.id, contextOf(req, res));
    res.status(204).end();
  });

  return router;
}
