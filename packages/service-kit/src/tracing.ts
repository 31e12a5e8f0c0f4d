import { initTracing } from '@mpb/telemetry';
import type { BaseConfig } from './config';

/**
 * Starts the process's tracing from its validated configuration: spans go to
 * `OTEL_EXPORTER_OTLP_ENDPOINT` when it names a collector, nowhere when it is empty. main.ts calls
 * it first, before any client exists, so every span of the process is covered; the first call wins.
 */
export function startTracing(service: string, config: Pick<BaseConfig, 'OTEL_EXPORTER_OTLP_ENDPOINT'>): void {
  initTracing({ service, endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT || undefined });
}
