import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { TopicConfig } from '../config/config.js';
import { ConfigError, errorMessage, SinkError } from '../errors.js';
import { isRetriableKafkaError } from '../kafka/kafka-errors.js';
import { topicPartitionCount } from '../kafka/topic-partitions.js';
import type { StateChangelog } from './state-changelog.js';
import { stateJson } from './upsert-script.js';

/** Messages per produce call (see `append`). */
export const SEND_CHUNK = 1000;

export interface KafkaStateChangelogOptions {
  kafka: Kafka;
  /** The compacted changelog topic (STATE_CHANGELOG_TOPIC), as many partitions as the raw topic. */
  topic: string;
}

/**
 * The changelog on Kafka: an idempotent producer (acks=all) writes each state (the table's own
 * JSON) with the vehicle id as key to the partition its record was read from.
 */
export function createKafkaStateChangelog(options: KafkaStateChangelogOptions): StateChangelog {
  const { kafka, topic } = options;
  let connected: Promise<Producer> | undefined;
  const producer = (): Promise<Producer> => {
    if (connected === undefined) {
      const created = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      const pending = created.connect().then(() => created);
      connected = pending;
      pending.catch(() => {
        if (connected === pending) connected = undefined;
      });
    }
    return connected;
  };
  return {
    async append(records, updatedAt, states) {
      if (records.length === 0) return;
      const messages = records.map((r, i) => ({
        key: r.position.vehicleId,
        value: states?.[i] ?? stateJson(r, updatedAt),
        partition: r.partition,
      }));
      const session = producer();
      try {
        const connected = await session;
        // kafkajs groups a send's messages by partition copying the partition's array once per
        // message: quadratic in a send's size. 10k states per send spent 5.7 s of a full-size
        // replay's 58 s there; sends of SEND_CHUNK, 2.5 s (bench/README.md, fourth round). One
        // state per vehicle per append, so the order of the sends does not matter.
        for (let i = 0; i < messages.length; i += SEND_CHUNK) {
          await connected.send({ topic, acks: -1, messages: messages.slice(i, i + SEND_CHUNK) });
        }
      } catch (err) {
        // A failed send can leave kafkajs's idempotent producer with sequence numbers the broker
        // no longer accepts (OUT_OF_ORDER_SEQUENCE_NUMBER on every retry after a broker loss: the
        // broker-loss fault scenario saw the processor stuck on it for 3 min). The retry gets a new
        // producer id; a state logged twice is harmless in a compacted changelog.
        if (connected === session) {
          connected = undefined;
          void session.then((p) => p.disconnect()).catch(() => undefined);
        }
        throw new SinkError(
          'changelog',
          `cannot log ${records.length} states to ${topic}: ${errorMessage(err)}`,
          {
            retriable: isRetriableKafkaError(err),
            cause: err,
          },
        );
      }
    },
    async close() {
      const pending = connected;
      connected = undefined;
      if (pending) await (await pending.catch(() => undefined))?.disconnect();
    },
  };
}

/**
 * The configured changelog (null when STATE_CHANGELOG=false), after checking that its topic exists
 * with as many partitions as the position topic; fails naming the command that fixes it.
 */
export async function openKafkaStateChangelog(
  kafka: Kafka,
  topic: Pick<TopicConfig, 'name' | 'changelog'>,
): Promise<StateChangelog | null> {
  const changelog = topic.changelog;
  if (changelog === undefined) return null;
  const fix = 'create it with `fleet topics create` (or set STATE_CHANGELOG=false)';
  const [positions, logged] = await Promise.all([
    topicPartitionCount(kafka, topic.name)(),
    topicPartitionCount(kafka, changelog)().catch((err: unknown) => {
      throw new ConfigError(
        'STATE_CHANGELOG_TOPIC',
        `cannot use ${changelog} (${errorMessage(err)}): ${fix}`,
      );
    }),
  ]);
  if (positions !== logged) {
    throw new ConfigError(
      'STATE_CHANGELOG_TOPIC',
      `${changelog} has ${logged} partitions but ${topic.name} has ${positions}; partition p logs shard p, ` +
        'so they must match: run `fleet topics create --alter`',
    );
  }
  return createKafkaStateChangelog({ kafka, topic: changelog });
}
