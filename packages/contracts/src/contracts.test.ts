import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import Joi from 'joi';
import {
  createEnvelope,
  describePayloads,
  EVENT_PAYLOAD_SCHEMAS,
  EventTypes,
  IDENTITY_HEADER_PATTERN,
  InvalidEventError,
  loadAuthProto,
  loadHealthProto,
  loadCommentsProto,
  loadMetricsProto,
  loadPostsProto,
  parseEnvelope,
  TOPIC_OF_EVENT,
  type PayloadContract,
  type PayloadSchemas,
} from './index';

describe('event envelope', () => {
  it('round-trips through JSON with every envelope field', () => {
    const e = createEnvelope({
      type: EventTypes.UserRegistered,
      aggregateType: 'user',
      aggregateId: 42,
      payload: { id: 42, username: 'ann' },
      source: 'auth',
      trace: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    });
    const parsed = parseEnvelope(Buffer.from(JSON.stringify(e)));
    expect(parsed).toEqual(e);
    expect(parsed.aggregate_id).toBe('42');
    expect(parsed.version).toBe(1);
  });

  it.each([
    ['empty', ''],
    ['not JSON', '{oops'],
    ['no id', JSON.stringify({ type: 'post.created' })],
    [
      'payload not an object',
      JSON.stringify({
        ...createEnvelope({
          type: 'post.created',
          aggregateType: 'post',
          aggregateId: 1,
          payload: {},
          source: 't',
        }),
        payload: 'x',
      }),
    ],
  ])('rejects a malformed event (%s) with a reason', (_name, raw) => {
    expect(() => parseEnvelope(raw)).toThrow(InvalidEventError);
  });

  it('routes every event type to a topic', () => {
    for (const t of Object.values(EventTypes)) expect(TOPIC_OF_EVENT[t]).toMatch(/^blog\.[a-z]+\.v1$/);
  });
});

describe('identity headers', () => {
  it.each([
    'x-user-id',
    'X-User',
    'x-auth-user',
    'x-authenticated-userid',
    'x-identity',
    'x-identity-token',
    'x-remote-user',
    'remote-user',
    'x-forwarded-user',
    'x-internal-user-id',
  ])('%s is one a client may not send', (name) => {
    expect(IDENTITY_HEADER_PATTERN.test(name)).toBe(true);
  });

  it.each(['authorization', 'x-request-id', 'x-users-agent', 'x-identityx', 'content-type'])(
    '%s passes',
    (name) => {
      expect(IDENTITY_HEADER_PATTERN.test(name)).toBe(false);
    },
  );
});

describe('protos', () => {
  it('load from the one proto/ folder with their services', () => {
    expect(typeof loadAuthProto().blog.auth.v1.UserService).toBe('function');
    expect(typeof loadAuthProto().blog.auth.v1.SessionRevocationService).toBe('function');
    expect(typeof loadHealthProto().grpc.health.v1.Health).toBe('function');
    expect(typeof loadPostsProto().blog.posts.v1.PostService).toBe('function');
    expect(typeof loadCommentsProto().blog.comments.v1.CommentService).toBe('function');
    expect(typeof loadMetricsProto().blog.metrics.v1.MetricsService).toBe('function');
  });
});

/** Hash of proto/, the topic of each event type and the payload contracts. */
function contractHash(payloads: PayloadContract = describePayloads()): string {
  const files: string[] = [];
  const walk = (d: string) =>
    readdirSync(d).forEach((f) =>
      statSync(path.join(d, f)).isDirectory() ? walk(path.join(d, f)) : files.push(path.join(d, f)),
    );
  const root = path.resolve(__dirname, '../../../proto');
  walk(root);
  const hash = createHash('sha256');
  for (const f of files.sort()) hash.update(path.relative(root, f)).update(readFileSync(f));
  hash.update(JSON.stringify(TOPIC_OF_EVENT));
  hash.update(JSON.stringify(payloads));
  return hash.digest('hex').slice(0, 16);
}

describe('contract canary', () => {
  // A change to proto/, the event catalog or an event payload's schema must be deliberate. Teams
  // deploy services one at a time, so update this hash only with a compatible change (new fields and
  // new numbers only; event-payloads.test.ts checks the payloads against their snapshot).
  it('proto/, the event topics and the payload schemas match the announced hash', () => {
    expect(contractHash()).toBe(CONTRACT_HASH);
  });

  it('changes with any change to a payload schema, a compatible one too', () => {
    const payloads = describePayloads({
      ...EVENT_PAYLOAD_SCHEMAS,
      'post.deleted': (EVENT_PAYLOAD_SCHEMAS['post.deleted'] as Joi.ObjectSchema).keys({
        reason: Joi.string(),
      }),
    } as PayloadSchemas);
    expect(contractHash(payloads)).not.toBe(contractHash());
  });
});

const CONTRACT_HASH = '11e5a9d75a643ad1';
