import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Router, type Request, type Response } from 'express';
import {
  isPageRequested,
  parsePageRequest,
  requireAuth,
  requireId,
  setPageHeaders,
  type TokenVerifier,
} from '@mpb/service-kit';
import { toAttachmentResponse, type Parent, type ParentKind } from '../domain/attachment';
import type { AttachmentsService } from '../domain/attachments-service';
import { Messages } from '../domain/messages';
import { contentDisposition } from '../domain/file-name';
import { assertDeclaredLength, receiveFiles } from './multipart';

export interface RouteDeps {
  attachments: AttachmentsService;
  verifier: TokenVerifier;
  /** Makes `file_url` absolute; empty keeps it a path on the gateway. */
  publicBaseUrl: string;
}

const INVALID_PARENT_ID: Record<ParentKind, string> = {
  post: Messages.invalidPostId,
  comment: Messages.invalidCommentId,
};

/** What the deep-page 400 of an attachment list says. */
const ATTACHMENTS_PAGING = { items: 'attachments' } as const;

/**
 * Drops the rest of a body the service stopped reading; a client still sending after a few seconds
 * loses its connection instead of holding it.
 */
function dropRestOfBody(req: Request, res: Response): void {
  if (req.complete) return;
  res.once('finish', () => {
    if (req.complete) return;
    const timer = setTimeout(() => req.socket.destroy(), 5000);
    timer.unref();
    req.once('end', () => clearTimeout(timer));
    req.once('close', () => clearTimeout(timer));
  });
}

/** The same five routes for posts and for comments, under /api/posts and /api/comments. */
export function attachmentRoutes({ attachments, verifier, publicBaseUrl }: RouteDeps): Router {
  const router = Router();
  const authenticated = requireAuth(verifier);

  for (const kind of ['post', 'comment'] as const) {
    const base = `/api/${kind}s`;
    const parentOf = (req: Request): Parent => ({
      kind,
      id: requireId(req.params.id, INVALID_PARENT_ID[kind]),
    });
    const attachmentId = (req: Request): number => requireId(req.params.id, Messages.invalidAttachmentId);

    // Paging is opt-in here: without `page` or `limit` the answer is the old API's, the whole list
    // (oldest first, at most 1000) and no paging headers; with either, the platform's paging rule.
    router.get(`${base}/:id/attachments`, async (req, res) => {
      const parent = parentOf(req);
      const request = isPageRequested(req.query)
        ? parsePageRequest(req.query, ATTACHMENTS_PAGING)
        : undefined;
      const list = await attachments.list(parent, request, { requestId: res.locals.requestId });
      if (request) setPageHeaders(req, res, { request, total: list.total ?? 0 });
      res.json(list.items.map((a) => toAttachmentResponse(a, publicBaseUrl)));
    });

    // Token (401), path (400), body type and declared size (415, 413), uploads in flight and spool
    // room (429, 503), then the owner service (404, 403, 503), and only then is the body read.
    router.post(`${base}/:id/attachments`, authenticated, async (req, res) => {
      const parent = parentOf(req);
      const declared = assertDeclaredLength(req, attachments.limits);
      const release = attachments.admitUpload(res.locals.user!.id, declared);
      try {
        await attachments.assertAuthor(parent, res.locals.user!.id, { requestId: res.locals.requestId });
        const received = receiveFiles(req, attachments.limits);
        try {
          const stored = await attachments.upload(parent, res.locals.user!.id, received.files);
          res.status(201).json(stored.map((a) => toAttachmentResponse(a, publicBaseUrl)));
        } catch (err) {
          received.abort();
          throw err;
        }
      } catch (err) {
        // Whatever of the body was not read is dropped, not left to hold the connection.
        dropRestOfBody(req, res);
        throw err;
      } finally {
        // upload() settles only after its temporary file is removed: the room is free again.
        release();
      }
    });

    router.get(`${base}/attachments/:id`, async (req, res) => {
      const attachment = await attachments.get(kind, attachmentId(req), { requestId: res.locals.requestId });
      res.json(toAttachmentResponse(attachment, publicBaseUrl));
    });

    router.get(`${base}/attachments/:id/file`, async (req, res) => {
      const { attachment, object } = await attachments.open(kind, attachmentId(req), {
        requestId: res.locals.requestId,
      });
      res.status(200).set({
        // Text was checked to be UTF-8 on the way in.
        'Content-Type':
          attachment.fileType === 'text/plain' ? 'text/plain; charset=utf-8' : attachment.fileType,
        'Content-Disposition': contentDisposition(attachment.fileName),
        'X-Content-Type-Options': 'nosniff',
        'Cache-Control': 'private, no-store',
        'Content-Security-Policy': "default-src 'none'; sandbox",
        ...(object.length !== undefined ? { 'Content-Length': String(object.length) } : {}),
      });
      // A failure mid-stream can only cut the response short: the status is already sent.
      await pipeline(object.body as Readable, res).catch(() => res.destroy());
    });

    router.delete(`${base}/attachments/:id`, authenticated, async (req, res) => {
      await attachments.delete(kind, attachmentId(req), res.locals.user!.id);
      res.status(204).end();
    });
  }
  return router;
}
