import type { Position } from '../domain/position.js';

export interface OverspeedEpisode {
  startTs: number;
  lastTs: number;
  maxSpeedKmh: number;
  limitKmh: number;
  /** The `overspeed` event was emitted (the minimum duration passed). */
  reported: boolean;
}

export interface TripSession {
  startTs: number;
  /** Last moving position: the session window's end. */
  lastMovingTs: number;
  distanceM: number;
  maxSpeedKmh: number;
}

/** Everything the detectors remember about one vehicle; stored per partition and changelogged. */
export interface VehicleState {
  /** Positions waiting out the grace period, oldest first. */
  pending: Position[];
  /** The last position the detectors saw (in event-time order). */
  last?: Position;
  /** Geofences the vehicle is inside. */
  inside: string[];
  overspeed?: OverspeedEpisode;
  trip?: TripSession;
  offline: boolean;
  batteryLow: boolean;
}

export const initialVehicleState = (): VehicleState => ({
  pending: [],
  inside: [],
  offline: false,
  batteryLow: false,
});
