import { jsonCodec } from '../src/domain/codec.js';
import { freePort, waitFor } from '../src/local/processes.js';
import { sleep } from '../src/retry.js';
import { brokerPid, endOffsets } from './cluster.js';
import { send } from './hostile-http.js';
import { AckLedger, Outcome } from './ledger.js';
import { PROCESSOR_ENV } from './processor-crashes.js';
import { scrapeMetrics } from './probe.js';
import { check, seconds, type Check, type Scenario } from './scenario.js';
import { Stage } from './stage.js';
import { positionAt, workloadPlan } from './workload.js';

/** The gateway gives up on Kafka's acknowledgement after this long and answers 503. */
const PUBLISH_TIMEOUT = '2s';
/** Each freeze of the broker: past the publish timeout, short of the processor's 6 s session. */
const FREEZE_MS = 4000;
/** Devices posting at once; more overload the gateway on a busy machine (its 503s cascade). */
const DEVICES = 8;
/** Positions per request (a device that buffered while offline sends an array). */
const PER_REQUEST = 10;

/**
 * 14. Devices retry, and a retry can land twice: devices post positions to `fleet gateway` one at
 * a time and retry every 503 with the same body (as Traccar Client does). The broker is frozen
 * with SIGSTOP for longer than the gateway's publish timeout, several times: the gateway answers
 * 503 while the write waits in the broker's socket, and lands once the broker runs again (SIGCONT)
 * — then the device's retry writes the same position at another offset. The warehouse must hold
 * every position exactly once; the topic must show that some positions did land twice (else the
 * scenario proved nothing).
 */
export const deviceRetries: Scenario = {
  id: 'device-retries',
  number: 14,
  title:
    'Device retries: broker frozen past the gateway timeout (503, late landing, retry), one row per position',
  async run(ctx) {
    const services = await ctx.services(1);
    const [gatewayPort, metricsPort] = [await freePort(), await freePort()];
    const stage = new Stage(ctx, services, 'retries', {
      ...PROCESSOR_ENV,
      METRICS_PORT: String(metricsPort),
    });
    await stage.setUp();
    const total = ctx.quick ? 1500 : 6000;
    const durationMs = ctx.quick ? 20_000 : 60_000;
    const pauses = ctx.quick ? 3 : 6;
    const plan = workloadPlan({ total, vehicles: ctx.quick ? 50 : 200 });
    const ledger = new AckLedger(total);
    const checks: Check[] = [];
    const processor = stage.start(['process']);
    const gateway = stage.start(['gateway', '--publish-timeout', PUBLISH_TIMEOUT], {
      GATEWAY_PORT: String(gatewayPort),
      HOST: '127.0.0.1',
      GATEWAY_UNKNOWN_DEVICES: 'accept',
      GATEWAY_DEVICE_RATE: '1000',
      GATEWAY_ADDRESS_RATE: '100000',
      GATEWAY_ADDRESS_BURST: '100000',
    });
    const pid = brokerPid(services.home, 1);
    let frozen = false;
    try {
      const health = { name: 'health', method: 'GET', path: '/healthz' } as const;
      await waitFor(async () => (await send(gatewayPort, health)).status === 200, 'gateway', 180_000, 250);
      const unavailable = new Uint16Array(total);
      const started = Date.now();
      let next = 0;
      // DEVICES devices at a time, each posting one position and retrying it until the gateway takes it.
      const device = async () => {
        for (
          let seq = next, end = (next += PER_REQUEST);
          seq < total;
          seq = next, end = next += PER_REQUEST
        ) {
          end = Math.min(end, total);
          await sleep(Math.max(0, started + (seq * durationMs) / total - Date.now()));
          const positions = Array.from({ length: end - seq }, (_, i) => positionAt(plan, seq + i));
          const body = Buffer.from(
            JSON.stringify(positions.map((p) => JSON.parse(jsonCodec.encode(p).toString()))),
          );
          const post = { name: 'positions', method: 'POST', path: '/v1/positions', body } as const;
          ledger.mark(seq, end, Outcome.pending);
          for (let attempt = 0; ; attempt++) {
            const answer = await send(gatewayPort, {
              ...post,
              headers: { 'content-type': 'application/json' },
            });
            if (answer.status === 200) break;
            if (answer.status === 503 || answer.status === 0) unavailable.fill(1, seq, end);
            else throw new Error(`gateway answered ${answer.status} to seq ${seq}: ${answer.error ?? ''}`);
            if (attempt > 200) throw new Error(`seq ${seq} not accepted after 200 retries`);
            await sleep(500);
          }
          ledger.mark(seq, end, Outcome.acknowledged);
        }
      };
      const devices = Promise.all(Array.from({ length: DEVICES }, device));
      // No freeze before the processor has joined and committed once (no vacuous fault).
      await stage.committedOnce(120_000, processor);
      // The freezes: each longer than the publish timeout, spread over the run.
      for (let i = 0; i < pauses; i++) {
        await sleep(durationMs / (pauses + 1) - FREEZE_MS / 2);
        const closeWindow = ctx.faults.open(`broker frozen ${i + 1}`);
        process.kill(pid, 'SIGSTOP');
        frozen = true;
        await sleep(FREEZE_MS);
        process.kill(pid, 'SIGCONT');
        frozen = false;
        closeWindow();
      }
      await devices;
      ctx.say(`devices done in ${seconds(Date.now() - started)}`);
      const drainMs = await stage.drained(ctx.quick ? 120_000 : 300_000, processor);
      let metrics: Map<string, number> | undefined;
      for (let attempt = 0; !metrics && attempt < 10; attempt++) {
        metrics = await scrapeMetrics(metricsPort).catch(() => sleep(500).then(() => undefined));
      }
      const stopped = await processor.stop();
      checks.push(
        check('processor stopped cleanly on SIGTERM', stopped.graceful, JSON.stringify(stopped.exit)),
      );

      const records = await endOffsets(stage.admin, stage.config.topic.name);
      const retried = unavailable.reduce((n, c) => n + (c > 0 ? 1 : 0), 0);
      const twice = records - total;
      checks.push(
        check(
          'not vacuous: 503s were answered and some of those writes landed anyway (a position twice in the topic)',
          retried > 0 && twice > 0,
          `${retried} positions got a 503 or no answer and were retried; the topic holds ${records} records for ${total} positions (${twice} late landings)`,
        ),
      );
      const counted = metrics?.get('fleet_processor_warehouse_duplicates_total') ?? Number.NaN;
      checks.push(
        check(
          'the processor counted every repeated position it dropped',
          counted >= twice,
          `fleet_processor_warehouse_duplicates_total ${counted} ≥ ${twice}`,
        ),
      );
      const verdict = await stage.verify(plan, ledger, await stage.rows());
      return {
        figures: verdict.figures,
        checks: [...verdict.checks, ...checks],
        notes: [
          `${pauses} broker freezes of ${seconds(FREEZE_MS)} (publish timeout ${PUBLISH_TIMEOUT}); drained ${seconds(drainMs)} after the devices`,
          ...verdict.notes,
        ],
      };
    } finally {
      if (frozen) process.kill(pid, 'SIGCONT');
      await gateway.stop(15_000).catch(() => undefined);
      await processor.stop().catch(() => undefined);
      await stage.tearDown();
    }
  },
};
