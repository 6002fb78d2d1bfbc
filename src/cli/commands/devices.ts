import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { newDevice, publicDevice, type DeviceStore } from '../../domain/device.js';
import { openDeviceRegistry } from '../../ingest/gateway/device-registry.js';
import { action, commandContext } from '../context.js';

async function withStore<T>(run: (store: DeviceStore) => Promise<T>): Promise<T> {
  const { config, logger } = commandContext({}, { logToStderr: true });
  const registry = openDeviceRegistry(config, logger);
  try {
    return await run(registry.store);
  } finally {
    await registry.close();
  }
}

/** `fleet devices add|list|remove`: the gateway's device registry in Redis (`<REDIS_PREFIX>devices`). */
export function registerDevices(program: Command): void {
  const devices = program
    .command('devices')
    .description('the ingest gateway device registry (GATEWAY_UNKNOWN_DEVICES=reject admits only these)');
  devices
    .command('add <id>')
    .description(
      'register a device (or replace its entry); the gateway sees it within GATEWAY_DEVICE_CACHE_MS',
    )
    .option('--name <name>', 'free label')
    .option('--token <token>', 'require this token (16+ characters) on its native API requests')
    .option('--generate-token', 'create a random token and print it once (it is stored only as sha256)')
    .action(
      action(async (id: string, opts: { name?: string; token?: string; generateToken?: boolean }) => {
        const token = opts.generateToken ? randomBytes(24).toString('base64url') : opts.token;
        const device = newDevice(id, {
          ...(opts.name !== undefined ? { name: opts.name } : {}),
          ...(token !== undefined ? { token } : {}),
        });
        await withStore((store) => store.put(device));
        process.stdout.write(`${JSON.stringify(publicDevice(device))}\n`);
        if (opts.generateToken) process.stdout.write(`token: ${token}\n`);
      }),
    );
  devices
    .command('list')
    .description('registered devices as JSON lines (tokens are never shown)')
    .action(
      action(async () => {
        const all = await withStore((store) => store.list());
        for (const device of all) process.stdout.write(`${JSON.stringify(publicDevice(device))}\n`);
      }),
    );
  devices
    .command('remove <id>')
    .description('unregister a device')
    .action(
      action(async (id: string) => {
        const removed = await withStore((store) => store.remove(id));
        if (!removed) throw new Error(`device '${id}' is not registered`);
        process.stdout.write(`removed ${id}\n`);
      }),
    );
}
