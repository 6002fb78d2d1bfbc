import type { Command } from 'commander';
import { createKafka } from '../../kafka/client.js';
import { checkKafkaAccess } from '../../kafka/preflight.js';
import { brokerCount, describeTopic, topicPlans, ensureTopic } from '../../kafka/topic-admin.js';
import { REBUILD_COMMAND } from '../../state/table-layout.js';
import { action, commandContext } from '../context.js';

export function registerTopics(program: Command): void {
  const topics = program
    .command('topics')
    .description('create and inspect the position and dead-letter topics');
  topics
    .command('create')
    .description('create vehicle_positions (3 partitions, compact+delete, 24 h) and its DLQ; idempotent')
    .option('--replication-factor <n>', 'replication factor (default min(2, brokers))')
    .option('--partitions <n>', 'partitions (default TOPIC_PARTITIONS)')
    .option('--alter', 'bring an existing topic to these settings instead of only reporting differences')
    .action(
      action(async (opts: { replicationFactor?: string; partitions?: string; alter?: boolean }) => {
        const { config, logger } = commandContext(
          {
            ...(opts.replicationFactor ? { TOPIC_REPLICATION_FACTOR: opts.replicationFactor } : {}),
            ...(opts.partitions ? { TOPIC_PARTITIONS: opts.partitions } : {}),
          },
          { logToStderr: true },
        );
        await checkKafkaAccess(config.kafka);
        const admin = createKafka(config.kafka, { logger, role: 'admin' }).admin();
        await admin.connect();
        try {
          const brokers = await brokerCount(admin);
          let differs = false;
          for (const plan of topicPlans(config.topic, brokers)) {
            const outcome = await ensureTopic(admin, plan, { alter: opts.alter ?? false });
            process.stdout.write(`${plan.name}: ${outcome.action}\n`);
            if (outcome.action === 'differs' || outcome.action === 'altered') {
              for (const d of outcome.differences)
                process.stdout.write(`  ${d.setting}: expected ${d.expected}, actual ${d.actual}\n`);
              const grew = outcome.differences.find((d) => d.setting === 'partitions');
              if (
                outcome.action === 'altered' &&
                grew &&
                Number(grew.expected) > Number(grew.actual) &&
                plan.name === config.topic.name
              ) {
                process.stdout.write(
                  `  partitions grew from ${grew.actual} to ${grew.expected}: the Redis table is sharded by partition ` +
                    'and vehicles whose key moved would keep a stale state. Stop the processors, run\n' +
                    `    ${REBUILD_COMMAND}\n  then start the processors again (see docs/state.md).\n`,
                );
              }
              if (outcome.action === 'differs') {
                differs = true;
                process.stdout.write(
                  '  nothing changed; rerun with --alter to apply the configs (partitions can only grow)\n',
                );
              }
            }
          }
          if (differs) process.exitCode = 3;
        } finally {
          await admin.disconnect();
        }
      }),
    );
  topics
    .command('describe')
    .description('partitions, leaders, replicas and managed configs of the topics')
    .option('--json', 'print JSON')
    .action(
      action(async (opts: { json?: boolean }) => {
        const { config, logger } = commandContext({}, { logToStderr: true });
        await checkKafkaAccess(config.kafka);
        const admin = createKafka(config.kafka, { logger, role: 'admin' }).admin();
        await admin.connect();
        try {
          const brokers = await brokerCount(admin);
          const out = [];
          for (const plan of topicPlans(config.topic, brokers)) {
            out.push(
              (await describeTopic(admin, plan.name, Object.keys(plan.configs))) ?? {
                name: plan.name,
                missing: true,
              },
            );
          }
          if (opts.json) {
            process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
            return;
          }
          for (const t of out) {
            if ('missing' in t) {
              process.stdout.write(`${t.name}: does not exist (run: fleet topics create)\n`);
              continue;
            }
            process.stdout.write(
              `${t.name}: ${t.partitions.length} partition(s), replication factor ${t.replicationFactor}\n`,
            );
            for (const p of t.partitions) {
              process.stdout.write(
                `  partition ${p.partition}: leader ${p.leader}, replicas [${p.replicas.join(',')}], isr [${p.isr.join(',')}]\n`,
              );
            }
            for (const [k, v] of Object.entries(t.configs)) process.stdout.write(`  ${k}=${v}\n`);
          }
        } finally {
          await admin.disconnect();
        }
      }),
    );
}
