import { createEnvelope, Topics } from '@mpb/contracts';
import { envelopeMessage, topicOfEnvelope } from './producer';

const envelope = (trace = {}) =>
  createEnvelope({
    type: 'post.liked',
    aggregateType: 'post',
    aggregateId: 42,
    payload: { user_id: 7 },
    source: 'metrics',
    trace,
  });

describe('envelope messages', () => {
  it('keys by the aggregate id and carries type, id and trace context as headers', () => {
    const e = envelope({ traceparent: '00-abc-def-01', tracestate: 'k=v' });
    const m = envelopeMessage(e);
    expect(m.key).toBe('42');
    expect(JSON.parse(m.value as string)).toEqual(e);
    expect(m.headers).toEqual({
      'event-type': 'post.liked',
      'event-id': e.id,
      traceparent: '00-abc-def-01',
      tracestate: 'k=v',
    });
  });

  it('leaves out trace headers the envelope does not have', () => {
    expect(Object.keys(envelopeMessage(envelope()).headers)).toEqual(['event-type', 'event-id']);
  });

  it('routes an event to its aggregate topic and refuses an unknown type', () => {
    expect(topicOfEnvelope(envelope())).toBe(Topics.metrics);
    expect(() => topicOfEnvelope({ ...envelope(), type: 'nothing.known' })).toThrow(
      'no topic for event type',
    );
  });
});
