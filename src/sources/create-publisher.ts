import type { Config } from '../config/config.js';
import { createKafka } from '../kafka/client.js';
import type { Logger } from '../logger.js';
import { PositionPublisher, type PositionPublisherOptions } from './publisher.js';

/** A publisher for the configured position topic, with its own kafkajs client. */
export function createPublisher(
  config: Readonly<Config>,
  options: Omit<PositionPublisherOptions, 'kafka' | 'topic'> & { logger: Logger },
): PositionPublisher {
  // kafkajs logs every inner retry at error level and warns about bounded retries; the
  // publisher logs failures itself, once per attempt of a batch.
  const kafkaLogger =
    options.logger.levelVal >= 60 ? options.logger : options.logger.child({}, { level: 'fatal' });
  const kafka = createKafka(config.kafka, { logger: kafkaLogger, role: 'producer' });
  return new PositionPublisher({ ...options, kafka, topic: config.topic.name });
}
