import { Router, type Request, type Response } from 'express';
import {
  parsePageRequest,
  requireAuth,
  requireId,
  setPageHeaders,
  traceContextOf,
  validate,
  type Page,
  type TokenVerifier,
} from '@mpb/service-kit';
import { toCommentResponse, type Comment } from '../domain/comment';
import { Messages, type CommentsService, type RequestContext } from '../domain/comments-service';
import { commentTextSchema, createCommentSchema } from './request-schemas';

export interface RouteDeps {
  comments: CommentsService;
  verifier: TokenVerifier;
}

/** What the deep-page 400 of a comment list says. */
const COMMENTS_PAGING = { items: 'comments' } as const;

const contextOf = (req: Request, res: Response): RequestContext => ({
  trace: traceContextOf(req),
  requestId: res.locals.requestId,
});

/** express.json leaves the body undefined when there is none; validation then names the missing fields. */
const bodyOf = (req: Request): unknown => req.body ?? {};

/** The body stays the old bare array; the total and the neighbouring pages travel in headers. */
function sendPage(req: Request, res: Response, page: Page<Comment>, params: Record<string, string>): void {
  setPageHeaders(req, res, { request: page.request, total: page.total, params }).json(
    page.items.map(toCommentResponse),
  );
}

export function commentRoutes({ comments, verifier }: RouteDeps): Router {
  const router = Router();
  const authenticated = requireAuth(verifier);

  router.get('/api/comments', async (req, res) => {
    const postId = requireId(req.query.post_id, Messages.invalidPostIdQuery);
    const page = await comments.listForPost(
      postId,
      parsePageRequest(req.query, COMMENTS_PAGING),
      contextOf(req, res),
    );
    sendPage(req, res, page, { post_id: String(postId) });
  });

  router.get('/api/posts/:id/comments', async (req, res) => {
    const postId = requireId(req.params.id, Messages.invalidPostId);
    const page = await comments.listForPost(
      postId,
      parsePageRequest(req.query, COMMENTS_PAGING),
      contextOf(req, res),
    );
    sendPage(req, res, page, {});
  });

  router.get('/api/comments/:id', async (req, res) => {
    const id = requireId(req.params.id, Messages.invalidCommentId);
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
    const postId = requireId(req.params.id, Messages.invalidPostId);
    const { text } = validate(commentTextSchema, bodyOf(req));
    const created = await comments.create({ postId, userId: res.locals.user!.id, text }, contextOf(req, res));
    res.status(201).json(toCommentResponse(created));
  });

  router.put('/api/comments/:id', authenticated, async (req, res) => {
    const id = requireId(req.params.id, Messages.invalidCommentId);
    const { text } = validate(commentTextSchema, bodyOf(req));
    const updated = await comments.update(id, res.locals.user!.id, text, contextOf(req, res));
    res.json(toCommentResponse(updated));
  });

  router.delete('/api/comments/:id', authenticated, async (req, res) => {
    const id = requireId(req.params.id, Messages.invalidCommentId);
    await comments.delete(id, res.locals.user!.id, contextOf(req, res));
    res.status(204).end();
  });

  return router;
}
