import { readFileSync } from 'node:fs';
import path from 'node:path';
import Joi from 'joi';
import {
  breakingChanges,
  contractViolations,
  createEnvelope,
  describePayloads,
  EVENT_PAYLOAD_SCHEMAS,
  EventTypes,
  InvalidEventError,
  payloadReader,
  TOPIC_OF_EVENT,
  type EventPayloads,
  type EventType,
  type PayloadContract,
  type PayloadSchemas,
} from './index';

const at = '2026-01-02T03:04:05.000Z';

/** Every field of each payload type: the compiler checks these against the TypeScript types. */
const FULL: { [T in EventType]: Required<EventPayloads[T]> } = {
  'user.registered': { id: 1, username: 'ann', name: 'Ann', created_at: at },
  'post.created': { id: 1, user_id: 2, title: 'Title', tag: null, created_at: at },
  'post.updated': { id: 1, user_id: 2, title: 'Title', tag: 'news', updated_at: at },
  'post.deleted': { id: 1, user_id: 2, deleted_at: at },
  'post.viewed': { post_id: 1, viewer_id: 0, epoch: 5, views: 3 },
  'post.liked': { post_id: 1, user_id: 2, seq: 7, likes: 1 },
  'post.unliked': { post_id: 1, user_id: 2, seq: 8, likes: 0 },
  'comment.created': { id: 1, post_id: 2, user_id: 3, created_at: at },
  'comment.updated': { id: 1, post_id: 2, user_id: 3, updated_at: at },
  'comment.deleted': { id: 1, post_id: 2, user_id: 3, deleted_at: at, reason: 'post_deleted' },
};

/** Only the fields the TypeScript types require. */
const MINIMAL: { [T in EventType]: EventPayloads[T] } = {
  ...FULL,
  'post.viewed': { post_id: 1, views: 3 },
  'post.liked': { post_id: 1, user_id: 2, likes: 1 },
  'post.unliked': { post_id: 1, user_id: 2, likes: 0 },
};

const TYPES = Object.values(EventTypes);
const fieldsOf = (type: EventType, required: boolean): string[] =>
  Object.entries(describePayloads()[type]!.fields)
    .filter(([, f]) => !required || f.required)
    .map(([name]) => name)
    .sort();

describe('event payload contracts', () => {
  it('define a payload schema for every event type, and only for those', () => {
    expect(Object.keys(EVENT_PAYLOAD_SCHEMAS).sort()).toEqual([...TYPES].sort());
  });

  it.each(TYPES)('%s: the TypeScript type and the schema name the same fields, required alike', (type) => {
    expect(contractViolations(type, FULL[type])).toEqual([]);
    expect(contractViolations(type, MINIMAL[type])).toEqual([]);
    expect(Object.keys(FULL[type]).sort()).toEqual(fieldsOf(type, false));
    expect(Object.keys(MINIMAL[type]).sort()).toEqual(fieldsOf(type, true));
  });

  it('tell a producer every way its payload breaks the contract, converting nothing', () => {
    expect(
      contractViolations('post.deleted', { id: '1', deleted_at: 'yesterday', extra: true }).sort(),
    ).toEqual([
      '"deleted_at" must be in iso format',
      '"extra" is not allowed',
      '"id" must be a number',
      '"user_id" is required',
    ]);
    expect(contractViolations('comment.deleted', { ...FULL['comment.deleted'], reason: 'admin' })).toEqual([
      '"reason" must be one of [user, post_deleted]',
    ]);
    expect(contractViolations('post.created', { ...FULL['post.created'], tag: '' })).toEqual([
      '"tag" is not allowed to be empty',
    ]);
    expect(contractViolations('post.viewed', { post_id: 0, views: -1 })).toEqual([
      '"post_id" must be greater than or equal to 1',
      '"views" must be greater than or equal to 0',
    ]);
    expect(contractViolations('post.shared', {})).toEqual(['unknown event type post.shared']);
    expect(contractViolations('post.deleted', 'x')).toEqual(['"value" must be of type object']);
  });
});

describe('payload readers', () => {
  const envelope = (type: EventType, payload: Record<string, unknown>) =>
    createEnvelope({ type, aggregateType: 'post', aggregateId: 1, payload, source: 'test' });
  const readDeleted = payloadReader('post.deleted', ['id']);
  const readLike = payloadReader('post.liked', ['post_id', 'user_id', 'seq']);

  it('check only the fields a consumer names and ignore the rest, so producers can add fields', () => {
    expect(readDeleted(envelope('post.deleted', { id: 5 }))).toEqual({ id: 5 });
    expect(readDeleted(envelope('post.deleted', { id: 5, user_id: 'x', added_later: [1] }))).toMatchObject({
      id: 5,
    });
  });

  it('keep the optional fields optional and check them when present', () => {
    expect(readLike(envelope('post.liked', { post_id: 1, user_id: 2 }))).toEqual({ post_id: 1, user_id: 2 });
    expect(() => readLike(envelope('post.liked', { post_id: 1, user_id: 2, seq: 0 }))).toThrow(
      'invalid event: post.liked payload: "seq" must be greater than or equal to 1',
    );
  });

  it('accept a numeric string where the contract has a number, as a joi validation does', () => {
    expect(readDeleted(envelope('post.deleted', { id: '5' }))).toEqual({ id: 5 });
  });

  it.each([
    [{ id: 'x' }, '"id" must be a number'],
    [{ id: 0 }, '"id" must be greater than or equal to 1'],
    [{ id: 1.5 }, '"id" must be an integer'],
    [{ id: 2 ** 53 }, '"id" must be a safe number'],
    [{}, '"id" is required'],
  ])('refuse %p with an InvalidEventError naming the event and the reason', (payload, reason) => {
    const read = () => readDeleted(envelope('post.deleted', payload));
    expect(read).toThrow(InvalidEventError);
    expect(read).toThrow(`invalid event: post.deleted payload: ${reason}`);
  });
});

describe('payload compatibility', () => {
  const snapshotFile = path.resolve(__dirname, '../event-payloads.snapshot.json');
  const snapshot = JSON.parse(readFileSync(snapshotFile, 'utf8')) as PayloadContract;
  const changed = (type: EventType, schema: Joi.ObjectSchema): PayloadContract =>
    describePayloads({ ...EVENT_PAYLOAD_SCHEMAS, [type]: schema } as PayloadSchemas);
  const without = (schema: Joi.ObjectSchema, field: string): Joi.ObjectSchema => {
    const keys = Object.keys((schema.describe() as { keys: object }).keys).filter((k) => k !== field);
    return Joi.object(Object.fromEntries(keys.map((k) => [k, schema.extract(k)])));
  };
  const deleted: Joi.ObjectSchema = EVENT_PAYLOAD_SCHEMAS['post.deleted'];
  const viewed: Joi.ObjectSchema = EVENT_PAYLOAD_SCHEMAS['post.viewed'];

  it('the schemas break nothing the committed snapshot announced', () => {
    expect(breakingChanges(snapshot, describePayloads())).toEqual([]);
  });

  // A compatible change still updates the snapshot, so that what it added is protected from then on.
  it('the committed snapshot records the schemas as they are (pnpm --filter @mpb/contracts run events:snapshot)', () => {
    expect(describePayloads()).toEqual(snapshot);
  });

  it('lets a schema gain an optional field, and the catalog a new event type', () => {
    expect(
      breakingChanges(snapshot, changed('post.deleted', deleted.keys({ reason: Joi.string() }))),
    ).toEqual([]);
    const withNewType = {
      ...describePayloads(),
      'post.shared': { topic: 'blog.posts.v1', fields: { id: { type: 'integer', required: true } } },
    } as PayloadContract;
    expect(breakingChanges(snapshot, withNewType)).toEqual([]);
  });

  it.each([
    ['removing a field', 'post.deleted', without(deleted, 'user_id'), 'post.deleted field user_id: removed'],
    [
      'changing its type',
      'post.deleted',
      deleted.keys({ user_id: Joi.string().required() }),
      'post.deleted field user_id: type changed from {"maximum":9007199254740991,"minimum":1,"type":"integer"} to {"type":"string"}',
    ],
    [
      'changing its rules',
      'post.viewed',
      viewed.keys({ viewer_id: Joi.number().integer().min(1).max(Number.MAX_SAFE_INTEGER) }),
      'post.viewed field viewer_id: type changed from {"maximum":9007199254740991,"minimum":0,"type":"integer"} to {"maximum":9007199254740991,"minimum":1,"type":"integer"}',
    ],
    [
      'letting it be null',
      'post.deleted',
      deleted.keys({ deleted_at: Joi.string().isoDate().allow(null).required() }),
      'post.deleted field deleted_at: type changed from {"format":"date-time","type":"string"} to {"format":"date-time","nullable":true,"type":"string"}',
    ],
    [
      'making an optional field required',
      'post.viewed',
      viewed.fork('epoch', (s) => s.required()),
      'post.viewed field epoch: made required',
    ],
    [
      'adding a required field',
      'post.deleted',
      deleted.keys({ title: Joi.string().required() }),
      'post.deleted field title: added as required',
    ],
    [
      'making a required field optional',
      'post.deleted',
      deleted.fork('id', (s) => s.optional()),
      'post.deleted field id: made optional (consumers rely on it)',
    ],
  ] as const)('refuses %s, naming the event and the field', (_change, type, schema, problem) => {
    expect(breakingChanges(snapshot, changed(type, schema))).toEqual([problem]);
  });

  it('refuses a new value in an enum: a consumer at the old version would park the event', () => {
    const schema = EVENT_PAYLOAD_SCHEMAS['comment.deleted'].keys({
      reason: Joi.string().valid('user', 'post_deleted', 'moderator').required(),
    });
    expect(breakingChanges(snapshot, changed('comment.deleted', schema))).toEqual([
      'comment.deleted field reason: type changed from {"enum":["post_deleted","user"],"type":"string"} to {"enum":["moderator","post_deleted","user"],"type":"string"}',
    ]);
  });

  it('refuses removing an event type or moving it to another topic', () => {
    const { 'post.updated': _gone, ...rest } = describePayloads();
    expect(breakingChanges(snapshot, rest)).toEqual(['post.updated: event type removed']);
    const moved = describePayloads(EVENT_PAYLOAD_SCHEMAS, {
      ...TOPIC_OF_EVENT,
      'post.deleted': 'blog.other.v1',
    });
    expect(breakingChanges(snapshot, moved)).toEqual([
      'post.deleted: topic changed from blog.posts.v1 to blog.other.v1',
    ]);
  });

  it('refuses to describe a schema it cannot compare (a nested object, an unknown rule or preference)', () => {
    expect(() => changed('post.deleted', deleted.keys({ meta: Joi.object() }))).toThrow(
      'post.deleted.meta: cannot describe a field of joi type object',
    );
    expect(() => changed('post.deleted', deleted.keys({ title: Joi.string().email() }))).toThrow(
      'post.deleted.title: cannot describe the rule email',
    );
    expect(() =>
      changed('post.deleted', deleted.keys({ id: Joi.number().integer().min(1).strict().required() })),
    ).toThrow('post.deleted.id: cannot describe the joi preferences');
    expect(() => changed('post.deleted', deleted.keys({ title: Joi.string().invalid('x') }))).toThrow(
      'post.deleted.title: cannot describe the joi invalid',
    );
  });
});
