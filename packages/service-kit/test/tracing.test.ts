import { createLogger } from '@mpb/logger';
import type * as Kit from '../src';
import type * as Telemetry from '@mpb/telemetry';

/** The kit and telemetry as a fresh process would load them: tracing starts once per process. */
function freshProcess(): { kit: typeof Kit; telemetry: typeof Telemetry } {
  let loaded: { kit: typeof Kit; telemetry: typeof Telemetry } | undefined;
  jest.isolateModules(() => {
    loaded = {
      kit: jest.requireActual<typeof Kit>('../src'),
      telemetry: jest.requireActual<typeof Telemetry>('@mpb/telemetry'),
    };
  });
  return loaded!;
}

describe('tracing', () => {
  const before = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  afterEach(() => {
    if (before === undefined) delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    else process.env.OTEL_EXPORTER_OTLP_ENDPOINT = before;
  });

  it('is never started from the environment by the HTTP app factory', () => {
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = 'http://127.0.0.1:9';
    const { kit, telemetry } = freshProcess();
    kit.createHttpApp({
      service: 'kit-test',
      logger: createLogger({ service: 'kit-test', level: 'silent' }),
      metrics: kit.createMetrics('kit-test'),
      routes: () => undefined,
    });
    expect(telemetry.isRecording()).toBe(false);
  });

  it('exports to the collector the validated configuration names, when main.ts starts it', async () => {
    const { kit, telemetry } = freshProcess();
    kit.startTracing('kit-test', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' });
    expect(telemetry.isRecording()).toBe(true);
    await telemetry.shutdownTracing();
  });

  it('records nothing when the configuration names no collector', () => {
    const { kit, telemetry } = freshProcess();
    kit.startTracing('kit-test', { OTEL_EXPORTER_OTLP_ENDPOINT: '' });
    expect(telemetry.isRecording()).toBe(false);
  });
});
