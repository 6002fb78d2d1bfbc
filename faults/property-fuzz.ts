import { errorMessage } from '../src/errors.js';
import { apiProperties } from './fuzz-api.js';
import { inputProperties } from './fuzz-properties.js';
import { check, type Check, type Scenario } from './scenario.js';

/** Runs per property: `--fuzz-runs` wins; else a quick run's and a full run's default. */
export const FUZZ_RUNS = { quick: 2_000, full: 20_000 } as const;
/** The query API answers through fastify inject, much slower per run than a parser. */
const API_SHARE = 0.1;

/**
 * 5b. The property-based fuzz (fast-check) of test/unit/fuzz.test.ts, many times longer and with the
 * run's seed: the position codecs, the gateway's parsers and every API query. Needs no services.
 * A failure prints fast-check's shrunk counterexample and the seed that replays it.
 */
export const propertyFuzz: Scenario = {
  id: 'property-fuzz',
  number: 5,
  variant: 'b',
  title: 'Property-based fuzz: codecs, OsmAnd/Traccar/native parsers, API queries (fast-check)',
  async run(ctx) {
    const runs = ctx.fuzzRuns ?? (ctx.quick ? FUZZ_RUNS.quick : FUZZ_RUNS.full);
    const checks: Check[] = [];
    let tried = 0;
    const all = [
      ...inputProperties.map((p) => ({ p, numRuns: runs })),
      ...apiProperties.map((p) => ({ p, numRuns: Math.max(1, Math.round(runs * API_SHARE)) })),
    ];
    for (const { p, numRuns } of all) {
      ctx.say(`${p.name}: ${numRuns} runs, seed ${ctx.seed}`);
      const started = Date.now();
      try {
        // The generated inputs are this scenario's fault.
        await ctx.faults.during(`fuzz ${p.name}`, () => p.check({ seed: ctx.seed, numRuns }));
        checks.push(check(p.name, true, `${numRuns} inputs in ${Date.now() - started} ms`));
      } catch (err) {
        checks.push(check(p.name, false, errorMessage(err).split('\n').slice(0, 4).join(' | ')));
      }
      tried += numRuns;
    }
    return {
      // Not writes: each generated input counts as produced and, when its property held, as landed.
      figures: {
        produced: tried,
        acknowledged: tried,
        landed: tried,
        lost: 0,
        duplicated: 0,
      },
      checks,
      notes: [`replay: npm run faults -- --only property-fuzz --seed ${ctx.seed} --fuzz-runs ${runs}`],
    };
  },
};
