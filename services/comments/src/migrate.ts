import { runMigrationJob } from '@mpb/service-kit';
import { migrations } from '../migrations';
import { loadCommentsConfigOrExit } from './config';
import { SERVICE_NAME } from './domain/comments-service';

/** `pnpm migrate`: brings comments' database up to date, then exits (for deploy jobs). */
void runMigrationJob(SERVICE_NAME, loadCommentsConfigOrExit(SERVICE_NAME), migrations);
