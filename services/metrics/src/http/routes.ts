import { Router, type Request, type RequestHandler } from 'express';
import { requireAuth, requireId, traceContextOf, type TokenVerifier } from '@mpb/service-kit';
import { Messages, type MetricsService } from '../domain/metrics-service';

export interface RouteDeps {
  service: MetricsService;
  verifier: TokenVerifier;
}

const postIdOf = (req: Request): number => requireId(req.params.id, Messages.invalidPostId);

/** Likes of the old API (same paths, bodies and messages), an unlike alias, and "do I like it". */
export function likeRoutes({ service, verifier }: RouteDeps): Router {
  const router = Router();
  const authenticated = requireAuth(verifier);

  router.post('/api/posts/:id/like', authenticated, async (req, res) => {
    const postId = postIdOf(req);
    const { likes } = await service.like(res.locals.user!.id, postId, traceContextOf(req));
    res.json({ post_id: postId, likes, message: Messages.liked });
  });

  const unlike: RequestHandler = async (req, res) => {
    const postId = postIdOf(req);
    const { likes } = await service.unlike(res.locals.user!.id, postId, traceContextOf(req));
    res.json({ post_id: postId, likes, message: Messages.unliked });
  };
  router.delete('/api/posts/:id/unlike', authenticated, unlike);
  router.delete('/api/posts/:id/like', authenticated, unlike);

  router.get('/api/posts/:id/like', authenticated, async (req, res) => {
    const postId = postIdOf(req);
    const { likes, liked } = await service.likeStatus(res.locals.user!.id, postId);
    res.set('Cache-Control', 'no-store').json({ post_id: postId, likes, liked });
  });

  return router;
}
