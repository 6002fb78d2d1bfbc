import type { Kafka } from 'kafkajs';
import { errorMessage, KafkaUnavailableError } from '../errors.js';

/**
 * A topic's identity: the UUID Kafka gives a topic when it is created (KIP-516), in Kafka's own
 * text form (URL-safe base64, no padding: what `kafka-topics.sh --describe` prints as `TopicId`).
 * A topic deleted and re-created under the same name gets a new id while its offsets restart at 0,
 * so the warehouse keys rows on (topic, topic id, partition, offset).
 *
 * kafkajs (2.2.4, no longer maintained) speaks Metadata v6 at most, which has no topic ids; ids
 * came with Metadata v10 (Kafka 2.8). This module sends one Metadata v10–v12 request over a
 * connection of kafkajs's own cluster, so TLS and every SASL mechanism we configure (PLAIN,
 * SCRAM, OAUTHBEARER / MSK IAM) work unchanged, and decodes only what it needs from the answer.
 * The encoding follows https://kafka.apache.org/protocol#The_Messages_Metadata (flexible versions:
 * compact strings and arrays, tagged fields).
 */

/** Kafka's `Uuid.ZERO_UUID`: "no id". Also the warehouse's marker for rows stored before ids. */
export const UNKNOWN_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAA';

const METADATA = 3;
const MIN_VERSION = 10;
const MAX_VERSION = 12;

/** Kafka's text form of a 16-byte UUID. */
export function topicIdText(uuid: Buffer): string {
  return uuid.toString('base64url');
}

function uvarint(n: number): Buffer {
  const bytes: number[] = [];
  while (n > 0x7f) {
    bytes.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  bytes.push(n);
  return Buffer.from(bytes);
}

/**
 * The Metadata request body for one topic, prefixed with the empty tagged-field section that a
 * flexible request header (v2) ends with: kafkajs writes header v1 (api key, version, correlation
 * id, client id), and header v2 is exactly that plus tagged fields.
 */
export function encodeMetadataRequest(topic: string, version: number): Buffer {
  const name = Buffer.from(topic, 'utf8');
  return Buffer.concat([
    Buffer.from([0]), // request header v2: no tagged fields
    uvarint(2), // topics: compact array of 1
    Buffer.alloc(16), // topic_id: zero, ask by name
    uvarint(name.length + 1),
    name,
    Buffer.from([0]), // topic: no tagged fields
    Buffer.from([0]), // allow_auto_topic_creation: false
    ...(version === 10 ? [Buffer.from([0])] : []), // include_cluster_authorized_operations (v8–v10)
    Buffer.from([0]), // include_topic_authorized_operations
    Buffer.from([0]), // no tagged fields
  ]);
}

class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}
  skip(n: number): void {
    if (this.at + n > this.buf.length) throw new RangeError('metadata response is truncated');
    this.at += n;
  }
  int16(): number {
    const v = this.buf.readInt16BE(this.at);
    this.at += 2;
    return v;
  }
  uvarint(): number {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const b = this.buf[this.at++];
      if (b === undefined) throw new RangeError('metadata response is truncated');
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
    }
  }
  /** Compact (nullable) string. */
  string(): string | null {
    const n = this.uvarint();
    if (n === 0) return null;
    const s = this.buf.toString('utf8', this.at, this.at + n - 1);
    this.skip(n - 1);
    return s;
  }
  bytes(n: number): Buffer {
    const b = this.buf.subarray(this.at, this.at + n);
    this.skip(n);
    return b;
  }
  taggedFields(): void {
    for (let n = this.uvarint(); n > 0; n--) {
      this.uvarint();
      this.skip(this.uvarint());
    }
  }
}

export interface TopicMetadata {
  errorCode: number;
  name: string | null;
  /** Kafka's text form; {@link UNKNOWN_TOPIC_ID} when the broker knows none. */
  topicId: string;
}

/**
 * Decodes the first topic of a Metadata v10–v12 response (what follows the correlation id: the
 * response header v1's tagged fields, then the body). Brokers are skipped field by field.
 */
export function decodeMetadataResponse(payload: Buffer): TopicMetadata {
  const r = new Reader(payload);
  r.taggedFields(); // response header v1
  r.skip(4); // throttle_time_ms
  for (let brokers = r.uvarint() - 1; brokers > 0; brokers--) {
    r.skip(4); // node_id
    r.string(); // host
    r.skip(4); // port
    r.string(); // rack
    r.taggedFields();
  }
  r.string(); // cluster_id
  r.skip(4); // controller_id
  if (r.uvarint() - 1 < 1) throw new RangeError('metadata response names no topic');
  const errorCode = r.int16();
  const name = r.string();
  return { errorCode, name, topicId: topicIdText(r.bytes(16)) };
}

/** What is used of kafkajs's internals: a cluster whose seed broker has one connection. */
interface InternalConnection {
  send(args: { request: unknown; response: unknown }): Promise<TopicMetadata>;
}
interface InternalBroker {
  versions?: Record<number, { minVersion: number; maxVersion: number }>;
  connectionPool: { getConnection(): Promise<InternalConnection> };
}
interface InternalCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  brokerPool: { seedBroker: InternalBroker };
}

/**
 * kafkajs builds its clusters with a method stored under a private symbol of the client; it is
 * the only way to reuse its connections (TLS, SASL) for a request it does not know. kafkajs is
 * pinned and unmaintained, so the symbol will not move; if it ever does, this fails loudly.
 */
function createCluster(kafka: Kafka): InternalCluster {
  const symbol = Object.getOwnPropertySymbols(kafka).find(
    (s) => s.description === 'private:Kafka:createCluster',
  );
  const create = symbol && (kafka as unknown as Record<symbol, unknown>)[symbol];
  if (typeof create !== 'function') {
    throw new KafkaUnavailableError('this kafkajs has no cluster factory: cannot read topic ids', {
      retriable: false,
    });
  }
  return (create as (o: object) => InternalCluster)({ allowAutoTopicCreation: false });
}

/** Kafka error codes met here (https://kafka.apache.org/protocol#protocol_error_codes). */
const UNKNOWN_TOPIC_OR_PARTITION = 3;

/**
 * The topic id of `topic`, read from the cluster now (one connection, one Metadata request).
 * Rejects with a retriable KafkaUnavailableError when the broker cannot be reached or does not
 * know the topic (yet), and a non-retriable one when the brokers are older than Kafka 2.8.
 */
export async function fetchTopicId(kafka: Kafka, topic: string): Promise<string> {
  const cluster = createCluster(kafka);
  try {
    await cluster.connect();
    const broker = cluster.brokerPool.seedBroker;
    const max = broker.versions?.[METADATA]?.maxVersion ?? 0;
    if (max < MIN_VERSION) {
      throw new KafkaUnavailableError(
        `the broker speaks Metadata v${max} at most: topic ids need v${MIN_VERSION} (Kafka ≥ 2.8)`,
        { retriable: false },
      );
    }
    const version = Math.min(max, MAX_VERSION);
    const body = encodeMetadataRequest(topic, version);
    const connection = await broker.connectionPool.getConnection();
    const meta = await connection.send({
      request: {
        apiKey: METADATA,
        apiVersion: version,
        apiName: 'Metadata',
        encode: () => ({ buf: body, buffer: body }),
      },
      response: { decode: (payload: Buffer) => payload, parse: decodeMetadataResponse },
    });
    if (meta.errorCode === UNKNOWN_TOPIC_OR_PARTITION || meta.topicId === UNKNOWN_TOPIC_ID) {
      throw new KafkaUnavailableError(`topic ${topic} does not exist (no topic id)`);
    }
    if (meta.errorCode !== 0) {
      throw new KafkaUnavailableError(`metadata of ${topic} failed with Kafka error ${meta.errorCode}`);
    }
    return meta.topicId;
  } catch (err) {
    if (err instanceof KafkaUnavailableError) throw err;
    throw new KafkaUnavailableError(`cannot read the topic id of ${topic}: ${errorMessage(err)}`, {
      cause: err,
    });
  } finally {
    await cluster.disconnect().catch(() => undefined);
  }
}
