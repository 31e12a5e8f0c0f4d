import { loadConfigOrExit, runMigrationJob } from '@mpb/service-kit';
import { migrations } from '../migrations';
import { configSchema } from './config';
import { SERVICE_NAME } from './domain/comments-service';

/** `pnpm migrate`: brings comments' database up to date, then exits (for deploy jobs). */
void runMigrationJob(SERVICE_NAME, loadConfigOrExit(SERVICE_NAME, configSchema), migrations);
