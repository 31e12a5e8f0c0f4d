import { Topics } from '@mpb/contracts';
import { defineService, runService } from '@mpb/service-kit';
import { migrations } from '../migrations';
import { loadAuthConfig } from './config';
import { createAuthContext } from './context';
import { SERVICE_NAME } from './domain/auth-service';
import { createGrpcServer } from './grpc/server';
import { createHttpApp } from './http/app';

/** What auth is made of; `runService` (below) and the test harness build it from this. */
export const authService = defineService({
  name: SERVICE_NAME,
  config: loadAuthConfig,
  async build(kit) {
    const { config, logger, metrics } = kit;
    const knex = await kit.database({ migrations });
    const context = await createAuthContext({ settings: config, knex, logger });
    const events = await kit.outbox({ knex, topics: [Topics.users] });
    return {
      context,
      knex,
      events,
      http: createHttpApp({ ...context, logger, metrics, readiness: kit.readiness() }),
      grpc: createGrpcServer({ logger, metrics, auth: context.auth }),
      about: { kid: context.keyring.signingKey().kid },
    };
  },
});

if (require.main === module) void runService(authService);
