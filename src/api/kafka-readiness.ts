import type { Admin, Kafka } from 'kafkajs';

/** A /readyz check that the Kafka cluster answers (metadata request), with one lazily connected admin. */
export interface KafkaReadiness {
  check(): Promise<void>;
  close(): Promise<void>;
}

export function kafkaReadiness(kafka: Kafka): KafkaReadiness {
  const admin: Admin = kafka.admin({ retry: { retries: 0 } });
  let connected: Promise<void> | null = null;
  return {
    async check() {
      connected ??= admin.connect().catch((err: unknown) => {
        connected = null;
        throw err;
      });
      await connected;
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length === 0) throw new Error('no broker in the cluster metadata');
    },
    async close() {
      if (connected) await admin.disconnect().catch(() => undefined);
      connected = null;
    },
  };
}
