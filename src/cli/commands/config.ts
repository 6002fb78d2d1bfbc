import type { Command } from 'commander';
import { configurationDoc } from '../../config/configuration-doc.js';
import { loadConfig } from '../../config/index.js';
import { maskSecrets } from '../../config/mask.js';
import { action } from '../context.js';

export function registerConfig(program: Command): void {
  program
    .command('config')
    .description('validate the configuration from the environment and print it (secrets masked)')
    .option('--markdown', 'print docs/configuration.md: every variable, its default and meaning')
    .action(
      action(async (opts: { markdown?: boolean }) => {
        if (opts.markdown) {
          process.stdout.write(configurationDoc());
          return;
        }
        const config = loadConfig();
        process.stdout.write(`${JSON.stringify(maskSecrets(config), null, 2)}\n`);
      }),
    );
}
