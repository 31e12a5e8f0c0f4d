import type { ParentKind } from './attachment';

/** Texts of the old API where it had them, and of this service's additions. */
export const Messages = {
  attachmentNotFound: 'attachment not found',
  postNotFound: 'post not found',
  commentNotFound: 'comment not found',
  postsUnavailable: 'posts service unavailable',
  commentsUnavailable: 'comments service unavailable',
  uploadForbidden: {
    post: 'you can attach files only to your own posts',
    comment: 'you can attach files only to your own comments',
  },
  deleteForbidden: 'you can delete only your own attachments',
  invalidPostId: 'invalid post id',
  invalidCommentId: 'invalid comment id',
  invalidAttachmentId: 'invalid attachment id',
  storageUnavailable: 'file storage unavailable',
  databaseUnavailable: 'attachment database unavailable',
  allowedTypes: 'PNG, JPEG, GIF, WebP, PDF or plain text',
} as const;

export const notFoundMessage = (kind: ParentKind): string =>
  kind === 'post' ? Messages.postNotFound : Messages.commentNotFound;
