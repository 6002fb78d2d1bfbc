import { createHash } from 'node:crypto';

export const EVENT_TYPES = [
  'geofence_enter',
  'geofence_exit',
  'overspeed',
  'overspeed_end',
  'trip_start',
  'trip_end',
  'offline',
  'online',
  'battery_low',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * One event of topic `vehicle_events` (key = vehicle id). `id` is a hash of what the event is
 * about, so detecting it twice (a replay, a retried transaction) gives the same id; `ts` is event
 * time. Type-specific fields sit beside the common ones.
 */
export interface VehicleEvent {
  id: string;
  type: EventType;
  vehicleId: string;
  ts: number;
  lat?: number;
  lon?: number;
  geofenceId?: string;
  geofenceName?: string;
  speedKmh?: number;
  maxSpeedKmh?: number;
  limitKmh?: number;
  durationMs?: number;
  distanceM?: number;
  avgSpeedKmh?: number;
  startTs?: number;
  battery?: number;
  lastSeenTs?: number;
}

/** The deterministic id: sha256 of vehicle, type, event time and subject (geofence, trip start), 32 hex. */
export function eventId(vehicleId: string, type: EventType, ts: number, subject = ''): string {
  return createHash('sha256').update(`${vehicleId}\n${type}\n${ts}\n${subject}`).digest('hex').slice(0, 32);
}

export function isEventType(v: unknown): v is EventType {
  return typeof v === 'string' && (EVENT_TYPES as readonly string[]).includes(v);
}

/** Reads an event back from JSON (topic, warehouse); throws on anything that is not one. */
export function parseVehicleEvent(v: unknown): VehicleEvent {
  const e = v as Partial<VehicleEvent> | null;
  if (
    !e ||
    typeof e.id !== 'string' ||
    !isEventType(e.type) ||
    typeof e.vehicleId !== 'string' ||
    typeof e.ts !== 'number'
  )
    throw new TypeError('not a vehicle event (id, type, vehicleId, ts required)');
  return e as VehicleEvent;
}
