// Preloaded (`node --import`, through NODE_OPTIONS) into the posts process that
// outbox-relay.test.ts starts: the process exits right after a round of its outbox relay reached
// Kafka and before the rows are marked published. It sets @mpb/kafka's test-only hook; no service
// reads anything from its environment for it. The platform starts every service with its own folder
// as the working directory, so @mpb/kafka resolves to the same module the service then loads.
import { createRequire } from 'node:module';
import path from 'node:path';

/** Exit code of a process stopped here; outbox-relay.test.ts expects it. */
const FAILPOINT_EXIT_CODE = 86;

const fromService = createRequire(path.join(process.cwd(), 'package.json'));
fromService('@mpb/kafka').outboxTestHooks.afterPublish = (eventIds) => {
  process.stderr.write(`outbox failpoint: exiting after publishing ${eventIds.join(', ')}\n`);
  process.exit(FAILPOINT_EXIT_CODE);
};
