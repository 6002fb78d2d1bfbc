import { describe, expect, it } from 'vitest';
import { scenarios, selectScenarios } from '../../../faults/run.js';

describe('selectScenarios', () => {
  it('leaves opt-in measurements (RF=2 second failure) out of the default run', () => {
    const ids = selectScenarios().map((s) => s.id);
    expect(ids).toContain('second-failure');
    expect(ids).toContain('network-faults');
    expect(ids).toContain('warehouse-disk-full');
    expect(ids).not.toContain('second-failure-rf2');
    expect(ids).toHaveLength(scenarios.length - 1);
  });

  it('runs an opt-in scenario only when named by id, not by its number', () => {
    expect(selectScenarios(['second-failure-rf2']).map((s) => s.id)).toEqual(['second-failure-rf2']);
    expect(selectScenarios(['2']).map((s) => s.id)).toEqual([
      'broker-loss',
      'broker-loss-rf2',
      'second-failure',
    ]);
  });

  it('refuses an unknown id', () => {
    expect(() => selectScenarios(['no-such'])).toThrow(/unknown scenario no-such/);
  });
});
