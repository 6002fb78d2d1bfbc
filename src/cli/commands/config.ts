import type { Command } from 'commander';
import { loadConfig, variables } from '../../config/index.js';
import { action } from '../context.js';

export function registerConfig(program: Command): void {
  program
    .command('config')
    .description('validate the configuration from the environment and print it (secrets masked)')
    .option('--markdown', 'print the table of every variable (the README section)')
    .action(
      action(async (opts: { markdown?: boolean }) => {
        if (opts.markdown) {
          process.stdout.write('| Variable | Default | Meaning |\n| --- | --- | --- |\n');
          for (const v of variables) {
            const def = 'default' in v && v.default !== '' ? `\`${v.default}\`` : '—';
            process.stdout.write(`| \`${v.name}\` | ${def} | ${v.doc} |\n`);
          }
          return;
        }
        const config = loadConfig();
        const masked = JSON.parse(
          JSON.stringify(config, (key, value: unknown) =>
            /password|privateKey$|passphrase|apiKeys?$/i.test(key) && value ? '***' : value,
          ),
        ) as unknown;
        process.stdout.write(`${JSON.stringify(masked, null, 2)}\n`);
      }),
    );
}
