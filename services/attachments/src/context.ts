import type { Knex } from 'knex';
import type { Logger } from '@mpb/logger';
import {
  sessionTokenVerifier,
  LivenessCache,
  type Jwk,
  type SessionRevocations,
  type TokenVerifier,
} from '@mpb/service-kit';
import type { AttachmentsConfig } from './config';
import { AttachmentRepository } from './data/attachment-repository';
import { AttachmentsService } from './domain/attachments-service';
import type { ObjectStore, OwnerDirectory } from './domain/ports';
import { UploadAdmission } from './domain/upload-admission';

export type AttachmentsSettings = Pick<
  AttachmentsConfig,
  | 'JWT_ISSUER'
  | 'JWT_AUDIENCE'
  | 'MAX_FILE_BYTES'
  | 'MAX_FILES_PER_REQUEST'
  | 'MAX_REQUEST_BYTES'
  | 'MAX_UPLOADS_IN_FLIGHT_PER_USER'
  | 'UPLOAD_SPOOL_MAX_BYTES'
  | 'UPLOAD_RETRY_AFTER_SECONDS'
  | 'PARENT_LIVENESS_CACHE_MS'
  | 'S3_KEY_PREFIX'
  | 'PUBLIC_BASE_URL'
>;

export interface AttachmentsContext {
  attachments: AttachmentsService;
  /** Verifies access tokens with auth's public keys and refuses revoked sessions. */
  verifier: TokenVerifier;
  publicBaseUrl: string;
}

/** Builds the domain objects on top of the clients main.ts (or a test) created. */
export function createAttachmentsContext(c: {
  settings: AttachmentsSettings;
  knex: Knex;
  /** The sessions auth revoked (followed from auth's feed in main.ts). */
  revocations: Pick<SessionRevocations, 'isRevoked'>;
  logger: Logger;
  objects: ObjectStore;
  owners: OwnerDirectory;
  /** auth's JWKS in production (jwksFromAuth); tests serve their own key. */
  loadKeys: () => Promise<Jwk[]>;
}): AttachmentsContext {
  return {
    attachments: new AttachmentsService({
      store: new AttachmentRepository(c.knex),
      objects: c.objects,
      owners: c.owners,
      logger: c.logger,
      keyPrefix: c.settings.S3_KEY_PREFIX,
      limits: {
        maxFileBytes: c.settings.MAX_FILE_BYTES,
        maxFiles: c.settings.MAX_FILES_PER_REQUEST,
        maxRequestBytes: c.settings.MAX_REQUEST_BYTES,
      },
      admission: new UploadAdmission({
        maxUploadsPerUser: c.settings.MAX_UPLOADS_IN_FLIGHT_PER_USER,
        maxSpoolBytes: c.settings.UPLOAD_SPOOL_MAX_BYTES,
        retryAfterSeconds: c.settings.UPLOAD_RETRY_AFTER_SECONDS,
      }),
      parentLiveness: new LivenessCache<string>({ liveTtlMs: c.settings.PARENT_LIVENESS_CACHE_MS }),
    }),
    verifier: sessionTokenVerifier({
      settings: c.settings,
      loadKeys: c.loadKeys,
      revocations: c.revocations,
    }),
    publicBaseUrl: c.settings.PUBLIC_BASE_URL,
  };
}
