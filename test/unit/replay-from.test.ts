import { describe, expect, it } from 'vitest';
import { parseFrom } from '../../src/cli/commands/replay.js';

describe('fleet replay --from', () => {
  const now = Date.parse('2026-05-01T12:00:00Z');

  it('accepts earliest, an ISO time, epoch ms and a duration ago', () => {
    expect(parseFrom('earliest', now)).toBe('earliest');
    expect(parseFrom('changelog', now)).toBe('changelog');
    expect(parseFrom('2026-05-01T06:00:00Z', now)).toBe(Date.parse('2026-05-01T06:00:00Z'));
    expect(parseFrom('1777600000000', now)).toBe(1_777_600_000_000);
    expect(parseFrom('6h', now)).toBe(now - 6 * 3_600_000);
    expect(parseFrom('90m', now)).toBe(now - 90 * 60_000);
  });

  it('names the flag when the value is not a time', () => {
    expect(() => parseFrom('yesterday', now)).toThrow(/^--from: /);
    expect(() => parseFrom('2026-13-45T99:00:00Z', now)).toThrow(/^--from: /);
  });
});
