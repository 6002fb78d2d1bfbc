import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandExists } from '../../src/local/processes.js';

/**
 * The fault suite's network: one namespace per host, each joined by a veth pair to a bridge in the
 * root namespace (where the suite itself runs: the publisher, the checks). Every name starts with
 * `fnf` so leftovers of a killed run are found and removed; the subnet is private to this machine.
 * Faults are iptables rules inside a host's own namespace (never in the root namespace): DROP for a
 * partition, `statistic` for random loss, NFQUEUE plus faults/net/delay.c for latency (this kernel
 * has no sch_netem, so `tc netem` is not available).
 */
export const BRIDGE = 'fnfbr0';
const SUBNET = '10.231.0';
export const ROOT_IP = `${SUBNET}.1`;

export type HostName = 'k1' | 'k2' | 'k3' | 'redis' | 'proc';

export interface NetHost {
  name: HostName;
  /** Network namespace. */
  ns: string;
  ip: string;
  /** Root-namespace end of its veth pair (the other end is `eth0` in the namespace). */
  veth: string;
}

const LAYOUT: readonly [HostName, number][] = [
  ['k1', 11],
  ['k2', 12],
  ['k3', 13],
  ['redis', 20],
  ['proc', 30],
];

export const HOSTS: Readonly<Record<HostName, NetHost>> = Object.fromEntries(
  LAYOUT.map(([name, octet]) => [
    name,
    { name, ns: `fnf-${name}`, ip: `${SUBNET}.${octet}`, veth: `fnfv-${name}` },
  ]),
) as Record<HostName, NetHost>;

function run(command: string, args: string[], allowFailure = false): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0 && !allowFailure) {
    throw new Error(`${command} ${args.join(' ')} failed: ${(result.stderr || result.stdout || '').trim()}`);
  }
  return result.stdout ?? '';
}

const inNs = (host: NetHost, command: string, args: string[], allowFailure = false) =>
  run('ip', ['netns', 'exec', host.ns, command, ...args], allowFailure);

/** Why network faults cannot run here, or undefined when they can. */
export function networkUnsupported(): string | undefined {
  if (process.getuid?.() !== 0) {
    return `network namespaces, veth links and iptables need root; this run is uid ${process.getuid?.()}`;
  }
  for (const tool of ['ip', 'iptables', 'gcc']) {
    if (!commandExists(tool)) return `${tool} not found (Debian: apt-get install iproute2 iptables gcc)`;
  }
  const probe = spawnSync('ip', ['netns', 'add', 'fnf-probe'], { encoding: 'utf8' });
  if (probe.status !== 0) return `ip netns add failed: ${probe.stderr.trim()}`;
  run('ip', ['netns', 'del', 'fnf-probe'], true);
  return undefined;
}

/** Removes every namespace, veth and bridge of ours (also those of a run that was killed). */
export function removeTopology(): void {
  for (const line of run('ip', ['netns', 'list'], true).split('\n')) {
    const ns = line.split(' ')[0];
    if (ns?.startsWith('fnf-')) run('ip', ['netns', 'del', ns], true);
  }
  for (const line of run('ip', ['-o', 'link', 'show'], true).split('\n')) {
    const name = /^\d+: ([^:@]+)/.exec(line)?.[1];
    if (name?.startsWith('fnfv-') || name === BRIDGE) run('ip', ['link', 'del', name], true);
  }
}

/** Builds the bridge and one namespace per host, fresh. */
export function createTopology(): void {
  removeTopology();
  run('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
  run('ip', ['addr', 'add', `${ROOT_IP}/24`, 'dev', BRIDGE]);
  run('ip', ['link', 'set', BRIDGE, 'up']);
  for (const host of Object.values(HOSTS)) {
    run('ip', ['netns', 'add', host.ns]);
    run('ip', ['link', 'add', host.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.ns]);
    run('ip', ['link', 'set', host.veth, 'master', BRIDGE, 'up']);
    run('ip', ['-n', host.ns, 'addr', 'add', `${host.ip}/24`, 'dev', 'eth0']);
    run('ip', ['-n', host.ns, 'link', 'set', 'eth0', 'up']);
    run('ip', ['-n', host.ns, 'link', 'set', 'lo', 'up']);
  }
}

/** Black-holes all traffic between `host` and `peers` (both directions, from inside `host`). */
export function partition(host: NetHost, peers: readonly NetHost[]): void {
  for (const peer of peers) {
    inNs(host, 'iptables', ['-A', 'INPUT', '-s', peer.ip, '-j', 'DROP']);
    inNs(host, 'iptables', ['-A', 'OUTPUT', '-d', peer.ip, '-j', 'DROP']);
  }
}

/** Removes every fault rule of a host. */
export function heal(host: NetHost): void {
  inNs(host, 'iptables', ['-F', 'INPUT']);
  inNs(host, 'iptables', ['-F', 'OUTPUT']);
}

const DELAY_SOURCE = fileURLToPath(new URL('./delay.c', import.meta.url));

/** Compiles faults/net/delay.c into `dir` (once per change of the source). */
export function buildDelay(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const binary = path.join(dir, 'fnf-delay');
  if (!existsSync(binary) || statSync(binary).mtimeMs < statSync(DELAY_SOURCE).mtimeMs) {
    const out = spawnSync('gcc', ['-O2', '-o', binary, DELAY_SOURCE, '-lnetfilter_queue'], {
      encoding: 'utf8',
    });
    if (out.status !== 0) {
      throw new Error(
        `building the delay helper failed (Debian: apt-get install libnetfilter-queue-dev): ${out.stderr.trim()}`,
      );
    }
  }
  return binary;
}

/**
 * A slow, lossy link on `host`: `lossPercent` of its packets dropped in each direction and every
 * packet it sends held `delayMs` (the delay helper runs in its namespace). Returns the helper;
 * {@link heal} plus killing the helper restores the link.
 */
export function degrade(
  host: NetHost,
  delayBinary: string,
  delayMs: number,
  lossPercent: number,
): ChildProcess {
  const p = String(lossPercent / 100);
  const random = ['-m', 'statistic', '--mode', 'random', '--probability', p, '-j', 'DROP'];
  inNs(host, 'iptables', ['-A', 'INPUT', '-i', 'eth0', ...random]);
  inNs(host, 'iptables', ['-A', 'OUTPUT', '-o', 'eth0', ...random]);
  // --queue-bypass: should the helper die, packets pass instead of vanishing.
  inNs(host, 'iptables', [
    '-A',
    'OUTPUT',
    '-o',
    'eth0',
    '-j',
    'NFQUEUE',
    '--queue-num',
    '1',
    '--queue-bypass',
  ]);
  return spawn('ip', ['netns', 'exec', host.ns, delayBinary, '1', String(delayMs)], { stdio: 'ignore' });
}
