import type { EventRules } from '../config/events-config.js';

export type { EventRules } from '../config/events-config.js';

export const defaultEventRules: EventRules = {
  graceMs: 5000,
  geofenceHysteresisM: 20,
  overspeedLimitKmh: 120,
  overspeedMinDurationMs: 10_000,
  movingMinSpeedKmh: 3,
  tripEndAfterMs: 300_000,
  offlineAfterMs: 600_000,
  batteryLowPct: 20,
};
