import type { AllowedType } from './file-type';

/** What a file is attached to; each kind has its own routes and its own owner service. */
export type ParentKind = 'post' | 'comment';

export interface Parent {
  kind: ParentKind;
  id: number;
}

/** pending: its object is being written; ready: listed and served; deleting: its object is going. */
export type AttachmentState = 'pending' | 'ready' | 'deleting';

export interface Attachment {
  id: number;
  parent: Parent;
  userId: number;
  objectKey: string;
  fileName: string;
  fileType: AllowedType;
  fileSize: number;
  state: AttachmentState;
  createdAt: Date;
}

/** The old API's attachment, plus the sanitized original name. */
export interface AttachmentResponse {
  id: number;
  post_id?: number;
  comment_id?: number;
  file_url: string;
  file_type: string;
  file_size: number;
  file_name: string;
  created_at: string;
}

/** The gateway path that streams the file after checking the attachment is still served. */
export const filePathOf = (a: Pick<Attachment, 'id' | 'parent'>): string =>
  `/api/${a.parent.kind}s/attachments/${a.id}/file`;

export function toAttachmentResponse(a: Attachment, publicBaseUrl = ''): AttachmentResponse {
  return {
    id: a.id,
    ...(a.parent.kind === 'post' ? { post_id: a.parent.id } : { comment_id: a.parent.id }),
    file_url: `${publicBaseUrl}${filePathOf(a)}`,
    file_type: a.fileType,
    file_size: a.fileSize,
    file_name: a.fileName,
    created_at: a.createdAt.toISOString(),
  };
}
