import { rm, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand,
  HeadObjectCommand, PutObjectCommand, S3Client, UploadPartCommand, type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { VmgenError } from '../../errors.js';
import type { ArtifactStore } from '../types.js';
import { hashJoined, joinedStream, openParts, sourceFiles } from './joined.js';
import { checkKey } from './key.js';

export interface S3Location {
  bucket: string;
  /** Prepended to every key, without a trailing slash; '' for the bucket's root. */
  prefix: string;
}

/** Archives larger than one part go up in parts: one PUT is limited to 5 GB, and a failed part is retried alone. */
export const PART_BYTES = 64 * 1024 * 1024;

/** s3://bucket/some/prefix → {bucket, prefix}; bucket names as S3 allows them (3–63 of a-z 0-9 . -). */
export function parseS3Url(url: string): S3Location {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!m) throw new VmgenError('VMG_USAGE', `bad S3 location ${JSON.stringify(url)}`, { hint: 'write it as s3://BUCKET or s3://BUCKET/PREFIX' });
  const prefix = (m[2] ?? '').replace(/\/+$/, '');
  if (prefix !== '') checkKey(prefix);
  return { bucket: m[1]!, prefix };
}

/**
 * Artifacts as objects in an S3 bucket (AWS or an S3-compatible server given by `endpoint`, which is
 * then addressed path-style, as such servers expect). Credentials and region come from the SDK's
 * usual sources (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, profiles). An object becomes
 * visible only when its upload completes, so a reader never sees a partial archive.
 */
export class S3ArtifactStore implements ArtifactStore {
  readonly client: S3Client;
  private readonly partBytes: number;

  constructor(readonly location: S3Location, opts: { endpoint?: string; client?: S3Client; partBytes?: number } = {}) {
    const config: S3ClientConfig = {
      region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
      ...(opts.endpoint ? {
        endpoint: opts.endpoint, forcePathStyle: true,
        // The SDK's default CRC checksums (aws-chunked uploads) are not understood by every S3-compatible server.
        requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
      } : {}),
    };
    this.client = opts.client ?? new S3Client(config);
    this.partBytes = opts.partBytes ?? PART_BYTES;
  }

  objectKey(key: string): string {
    checkKey(key);
    return this.location.prefix === '' ? key : `${this.location.prefix}/${key}`;
  }

  /** Several files are uploaded as one object, the files joined in order. */
  async put(key: string, source: string | readonly string[]): Promise<{ bytes: number; sha256: string }> {
    const files = sourceFiles(key, source);
    const Key = this.objectKey(key);
    const Bucket = this.location.bucket;
    const bytes = (await Promise.all(files.map(async (f) => (await stat(f)).size))).reduce((sum, n) => sum + n, 0);
    // Hashed before the upload so the digest travels as metadata and a later stat can trust it.
    const sha256 = await hashJoined(files);
    const Metadata = { sha256 };
    try {
      if (bytes <= this.partBytes) {
        await this.withBody(files, { start: 0, end: bytes - 1 }, (Body) => this.client.send(new PutObjectCommand({ Bucket, Key, Body, ContentLength: bytes, Metadata })));
      } else {
        await this.multipart(Bucket, Key, files, bytes, Metadata);
      }
    } catch (err) {
      throw storeError(`cannot upload ${key} to s3://${Bucket}/${Key}`, err);
    }
    for (const f of files) await rm(f, { force: true });
    return { bytes, sha256 };
  }

  private async multipart(Bucket: string, Key: string, files: readonly string[], bytes: number, Metadata: Record<string, string>): Promise<void> {
    const { UploadId } = await this.client.send(new CreateMultipartUploadCommand({ Bucket, Key, Metadata }));
    if (!UploadId) throw new Error('the server returned no upload id');
    try {
      const Parts: { ETag: string; PartNumber: number }[] = [];
      for (let start = 0, PartNumber = 1; start < bytes; start += this.partBytes, PartNumber++) {
        const end = Math.min(bytes, start + this.partBytes) - 1;
        const { ETag } = await this.withBody(files, { start, end }, (Body) => this.client.send(new UploadPartCommand({
          Bucket, Key, UploadId, PartNumber, Body, ContentLength: end - start + 1,
        })));
        if (!ETag) throw new Error(`the server returned no ETag for part ${PartNumber}`);
        Parts.push({ ETag, PartNumber });
      }
      await this.client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts } }));
    } catch (err) {
      // Parts of an abandoned upload are billed and invisible; tell the server to drop them.
      await this.client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => {});
      throw err;
    }
  }

  /** Calls `send` with bytes [start, end] of the files joined as a stream; the files are closed however it ends. */
  private async withBody<T>(files: readonly string[], range: { start: number; end: number }, send: (body: Readable) => Promise<T>): Promise<T> {
    const body = joinedStream(await openParts(files), range);
    try {
      return await send(body);
    } finally {
      body.destroy();
    }
  }

  async open(key: string, range?: { start: number; end: number }): Promise<NodeJS.ReadableStream> {
    const Key = this.objectKey(key);
    try {
      const out = await this.client.send(new GetObjectCommand({
        Bucket: this.location.bucket, Key, ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
      }));
      if (!out.Body) throw new Error('the server returned no body');
      return out.Body as Readable;
    } catch (err) {
      if (isNotFound(err)) throw new VmgenError('VMG_NOT_FOUND', `no artifact ${key}`);
      throw storeError(`cannot read ${key} from s3://${this.location.bucket}/${Key}`, err);
    }
  }

  async stat(key: string): Promise<{ bytes: number } | undefined> {
    const Key = this.objectKey(key);
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.location.bucket, Key }));
      return { bytes: out.ContentLength ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw storeError(`cannot look up ${key} in s3://${this.location.bucket}/${Key}`, err);
    }
  }

  async delete(key: string): Promise<void> {
    const Key = this.objectKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.location.bucket, Key }));
    } catch (err) {
      if (!isNotFound(err)) throw storeError(`cannot delete ${key} from s3://${this.location.bucket}/${Key}`, err);
    }
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

function storeError(what: string, err: unknown): VmgenError {
  if (err instanceof VmgenError) return err;
  return new VmgenError('VMG_ARTIFACT_STORE', `${what}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`, {
    cause: err, hint: 'check the endpoint, the bucket, and AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_REGION',
  });
}
