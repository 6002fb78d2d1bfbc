/**
 * How busy the city is over a day. `activity` is the share of the fleet that drives (the rest is
 * parked and only sends heartbeats); `speedFactor` scales free-flow speeds (congestion).
 */
export interface TrafficProfile {
  readonly name: 'steady' | 'rush-hour';
  activity(t: number): number;
  speedFactor(t: number): number;
}

export const steadyProfile: TrafficProfile = {
  name: 'steady',
  activity: () => 1,
  speedFactor: () => 0.9,
};

const bump = (h: number, centre: number, width: number) => Math.exp(-((h - centre) ** 2) / (2 * width ** 2));

/**
 * Share of vehicles on the road at local hour `h` (0-24): a night low (~10 %), a morning peak at
 * 08:00, a midday plateau (~50 %) and a longer evening peak around 17:30.
 */
export function rushHourActivity(h: number): number {
  const hour = ((h % 24) + 24) % 24;
  let a = 0.1;
  for (const shift of [-24, 0, 24]) {
    const x = hour + shift;
    a += 0.85 * bump(x, 8, 1) + 0.9 * bump(x, 17.5, 1.3) + 0.35 * bump(x, 13, 2.5);
  }
  return Math.min(1, a);
}

export interface RushHourOptions {
  /** Local time = UTC + this many hours. */
  utcOffsetHours: number;
  /** Simulation start (epoch ms); the day is compressed around it. */
  startMs: number;
  /** Length of one simulated day in real time. @default 24 h */
  dayLengthMs?: number;
}

export function rushHourProfile(options: RushHourOptions): TrafficProfile {
  const scale = 86_400_000 / (options.dayLengthMs ?? 86_400_000);
  const hourAt = (t: number) =>
    (options.startMs + (t - options.startMs) * scale) / 3_600_000 + options.utcOffsetHours;
  return {
    name: 'rush-hour',
    activity: (t) => rushHourActivity(hourAt(t)),
    // Congested peaks drive at ~55 % of free-flow speed.
    speedFactor: (t) => 1 - 0.45 * rushHourActivity(hourAt(t)) ** 2,
  };
}
