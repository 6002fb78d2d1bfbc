import type { Kafka } from 'kafkajs';
import { parseVehicleEvent, type VehicleEvent } from '../domain/vehicle-event.js';
import { tailTopic } from '../kafka/tail-topic.js';
import type { Logger } from '../logger.js';

/**
 * The live feed of the events topic: each subscription tails it from the end (read_committed,
 * so events of aborted transactions never show) with its own throwaway group; nothing is committed.
 * Records that are not events are logged and skipped.
 */
export function vehicleEventFeed(kafka: Kafka, topic: string, logger: Logger) {
  return async (onEvent: (event: VehicleEvent) => void): Promise<() => Promise<void>> => {
    const tail = await tailTopic(kafka, topic, {
      groupPrefix: 'fleet-events-feed',
      onRecord: (partition, m) => {
        let event: VehicleEvent;
        try {
          event = parseVehicleEvent(JSON.parse(m.value?.toString() ?? 'null'));
        } catch (err) {
          logger.warn(
            { topic, partition, offset: m.offset, err: String(err) },
            'not a vehicle event: skipped',
          );
          return;
        }
        onEvent(event);
      },
      onFailure: (err) => logger.error({ topic, err: String(err) }, 'events feed stopped'),
    });
    return () => tail.stop();
  };
}
