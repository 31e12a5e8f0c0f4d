import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { AttachmentsConfig } from '../config';
import type { AllowedType } from '../domain/file-type';
import type { ObjectStore, StoredObject } from '../domain/ports';

export type S3Settings = Pick<
  AttachmentsConfig,
  | 'S3_ENDPOINT'
  | 'S3_REGION'
  | 'S3_BUCKET'
  | 'S3_ACCESS_KEY_ID'
  | 'S3_SECRET_ACCESS_KEY'
  | 'S3_FORCE_PATH_STYLE'
  | 'S3_REQUEST_TIMEOUT_MS'
>;

/** The client for the configured endpoint (s3proxy, MinIO or AWS), with bounded timeouts and retries. */
export function createS3Client(s: S3Settings): S3Client {
  return new S3Client({
    region: s.S3_REGION,
    ...(s.S3_ENDPOINT ? { endpoint: s.S3_ENDPOINT } : {}),
    forcePathStyle: s.S3_FORCE_PATH_STYLE,
    credentials: { accessKeyId: s.S3_ACCESS_KEY_ID, secretAccessKey: s.S3_SECRET_ACCESS_KEY },
    maxAttempts: 2,
    // Checksums only where S3 requires them: s3proxy and older MinIO refuse the newer default headers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      connectionTimeout: Math.min(s.S3_REQUEST_TIMEOUT_MS, 3000),
      requestTimeout: s.S3_REQUEST_TIMEOUT_MS,
    },
  });
}

const isMissing = (err: unknown): boolean =>
  err instanceof S3ServiceException && (err.name === 'NoSuchKey' || err.$metadata.httpStatusCode === 404);

/** Objects in one bucket. Nothing is public: clients read through the attachments routes. */
export class S3ObjectStore implements ObjectStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    /** Where files wait, one temporary file each, between the client and S3. */
    private readonly spoolDir: string,
  ) {}

  /**
   * S3 needs an object's length before its first byte (a PutObject), or parts of at least 5 MiB held
   * in memory (a multipart upload); a multipart form says neither. So the file streams to a private
   * temporary file as it arrives, then streams from it to S3 with its length: memory per upload is a
   * few 64 KiB buffers whatever the file's size, and the temporary file is removed at once, whatever
   * happens. The SDK hashes the file for the signature by reading it again, not by buffering it.
   */
  async upload(key: string, body: AsyncIterable<Buffer>, contentType: AllowedType): Promise<void> {
    const path = join(this.spoolDir, `mpb-upload-${randomUUID()}`);
    try {
      await pipeline(body, createWriteStream(path, { flags: 'wx', mode: 0o600 }));
      const { size } = await stat(path);
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: createReadStream(path),
          ContentLength: size,
          ContentType: contentType,
        }),
      );
    } finally {
      await rm(path, { force: true });
    }
  }

  async get(key: string): Promise<StoredObject | undefined> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!out.Body) return undefined;
      return { body: out.Body as Readable, length: out.ContentLength };
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      if (isMissing(err)) return;
      throw err;
    }
  }

  async *list(prefix: string): AsyncIterable<Array<{ key: string; lastModified: Date }>> {
    let token: string | undefined;
    do {
      const out = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix,
          ContinuationToken: token,
          MaxKeys: 1000,
        }),
      );
      yield (out.Contents ?? []).flatMap((o) =>
        o.Key ? [{ key: o.Key, lastModified: o.LastModified ?? new Date(0) }] : [],
      );
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
  }

  /** For /readyz: the bucket exists and the credentials are accepted. */
  async ping(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }
}
