import type { Admin } from 'kafkajs';
import { fetchTopicOffsets, type KafkaClient } from './kafka';

export interface ConsumerLagOptions {
  kafka: KafkaClient;
  /** The group and topics as the cluster names them (with the client's prefix). */
  groupId: string;
  topics: string[];
  /** Where the group starts without committed offsets: what a partition it never committed lags by. */
  fromBeginning: boolean;
}

/** Reads a group's lag through one admin client, connected on first use and kept. */
export class ConsumerLag {
  private admin: Admin | undefined;
  private adminConnecting: Promise<Admin> | undefined;
  /** The total found by the last `read()`, if any. */
  last: number | undefined;

  constructor(private readonly o: ConsumerLagOptions) {}

  /** Messages on the subscribed topics not yet committed by this group, summed over partitions. */
  async read(): Promise<number> {
    const admin = await this.connectedAdmin();
    const { groupId, topics } = this.o;
    const committed = await admin.fetchOffsets({ groupId, topics });
    const committedOf = new Map<string, number>();
    for (const t of committed) {
      for (const p of t.partitions) committedOf.set(`${t.topic}:${p.partition}`, Number(p.offset));
    }
    let total = 0;
    for (const topic of topics) {
      // The kept admin's metadata may be stale (a moved leader): then ask with fresh metadata.
      const ends = await admin.fetchTopicOffsets(topic).catch(() => fetchTopicOffsets(this.o.kafka.raw, topic));
      for (const p of ends) {
        const high = Number(p.high);
        const c = committedOf.get(`${topic}:${p.partition}`) ?? -1;
        const from = c >= 0 ? c : this.o.fromBeginning ? Number(p.low) : high;
        total += Math.max(0, high - from);
      }
    }
    this.last = total;
    return total;
  }

  /** Disconnects the admin client, waiting for a connection in progress. */
  async close(): Promise<void> {
    const admin = this.admin ?? (await this.adminConnecting?.catch(() => undefined));
    await admin?.disconnect();
  }

  private async connectedAdmin(): Promise<Admin> {
    if (this.admin) return this.admin;
    this.adminConnecting ??= (async () => {
      const admin = this.o.kafka.raw.admin();
      await admin.connect();
      this.admin = admin;
      return admin;
    })();
    try {
      return await this.adminConnecting;
    } catch (err) {
      this.adminConnecting = undefined;
      throw err;
    }
  }
}
