#!/usr/bin/env node
// Builds the Dockerfile without a container engine and starts the result (issue 12).
//
// Usage: node .ci/image-check.mjs [--dockerfile PATH] [--keep]
//
// Each stage gets a scratch folder standing for the container's `/`; the instructions run in order:
//   FROM        a new, empty stage root (`AS name` is what `COPY --from=name` reads). The base image's
//               own files are NOT there: RUN uses this machine's /bin/sh and node, and the check fails
//               unless this node's major version is the one the FROM tag names (node:20-... → 20).
//   WORKDIR     creates the folder inside the stage root; later relative paths start there.
//   ENV         `k=v ...` (or legacy `k v`), applied to every later RUN and to the entrypoint.
//   COPY        from the build context (the repository, minus .dockerignore) or `--from=<stage>`,
//               with Docker's rules: a folder's contents are copied; `dest/` means "into".
//   RUN         `/bin/sh -c` with cwd = WORKDIR inside the stage root and a clean environment (PATH,
//               HOME and proxy settings of this machine, plus the stage's ENV). Absolute paths in the
//               command that are not system folders (/bin, /usr, /etc, /tmp, ...) are rewritten into the
//               stage root, so `mkdir -p /data` makes <stage>/data and never touches this machine's /data.
//               `chown` is replaced by a stand-in that checks the paths exist and records the owner: the
//               users (`node`) live in the base image's /etc/passwd, which is not here.
//   USER, VOLUME, EXPOSE, HEALTHCHECK, CMD, LABEL   recorded; they change nothing on disk.
//   ENTRYPOINT  after the last stage: started with `--help` and `process --help` from the final WORKDIR
//               with the final ENV; both must exit 0 and print their usage.
// Any other instruction, a failing RUN, a missing COPY source or a failing entrypoint exits non-zero.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const dockerfile = resolve(
  args.includes('--dockerfile') ? args[args.indexOf('--dockerfile') + 1] : join(root, 'Dockerfile'),
);
const keep = args.includes('--keep');
const scratch = mkdtempSync(join(tmpdir(), 'fleet-image-check-'));
const SYSTEM_DIRS = ['bin', 'sbin', 'usr', 'lib', 'lib64', 'etc', 'dev', 'proc', 'sys', 'tmp', 'var', 'run'];
const PASS_ENV = [
  'PATH',
  'HOME',
  'TMPDIR',
  'LANG',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
];

const fail = (message) => {
  console.error(`image-check: FAILED: ${message}`);
  if (!keep) rmSync(scratch, { recursive: true, force: true });
  process.exit(1);
};
const log = (message) => console.log(`image-check: ${message}`);

/** Dockerfile lines joined across `\` continuations, without comments and blank lines. */
function instructions(text) {
  const out = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    current += (current ? ' ' : '') + line.replace(/\\$/, '').trim();
    if (!line.endsWith('\\')) {
      const [, keyword, rest] = current.match(/^(\S+)\s*(.*)$/);
      out.push({ keyword: keyword.toUpperCase(), rest });
      current = '';
    }
  }
  return out;
}

/** .dockerignore patterns as tests on a context-relative path (a pattern also excludes what is under it). */
function dockerignore() {
  const file = join(root, '.dockerignore');
  if (!existsSync(file)) return () => false;
  const patterns = readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  if (patterns.some((p) => p.startsWith('!')))
    fail('.dockerignore exceptions (!pattern) are not supported here');
  const regexes = patterns.map((p) => {
    const body = p
      .replace(/^\/+|\/+$/g, '')
      .replace(/[.+^${}()|[\]]/g, '\\$&')
      .replace(/\*\*/g, '\0')
      .replace(/\*/g, '[^/]*')
      .replace(/\?/g, '[^/]')
      .replace(/\0/g, '.*');
    return new RegExp(`^${body}(/.*)?$`);
  });
  return (path) => regexes.some((r) => r.test(path));
}

function parseEnv(rest) {
  if (!rest.includes('=')) {
    const [key, ...value] = rest.split(/\s+/);
    return { [key]: value.join(' ') };
  }
  const env = {};
  for (const [, key, value] of rest.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g))
    env[key] = value.startsWith('"') ? JSON.parse(value) : value;
  return env;
}

/** The stand-in for chown: checks every path exists, records the owner, changes nothing. */
function chownShim(dir) {
  mkdirSync(dir, { recursive: true });
  const shim = join(dir, 'chown');
  writeFileSync(
    shim,
    `#!/bin/sh\nowner=""\nfor a in "$@"; do case "$a" in -*) ;; *) if [ -z "$owner" ]; then owner="$a"; elif [ ! -e "$a" ]; then echo "chown: $a: no such file" >&2; exit 1; else echo "image-check: chown $owner $a (recorded)"; fi ;; esac; done\n`,
  );
  chmodSync(shim, 0o755);
  return dir;
}

/** Absolute, non-system paths of a RUN command mapped into the stage root. */
function mapPaths(command, stageRoot) {
  return command.replace(
    /(^|[\s=:'"])\/([A-Za-z0-9._-]+)((?:\/[^\s;&|'"]*)?)/g,
    (whole, lead, first, tail) =>
      SYSTEM_DIRS.includes(first) ? whole : `${lead}${stageRoot}/${first}${tail}`,
  );
}

const ignored = dockerignore();
const shimDir = chownShim(join(scratch, '.shims'));
const stages = [];
let stage = null;
const inStage = (path) => join(stage.root, posix.isAbsolute(path) ? path : posix.join(stage.workdir, path));

for (const { keyword, rest } of instructions(readFileSync(dockerfile, 'utf8'))) {
  log(`${keyword} ${rest}`);
  if (keyword === 'FROM') {
    const [image, as, name] = rest.split(/\s+/);
    const major = image.match(/^node:(\d+)/)?.[1];
    if (major && major !== process.versions.node.split('.')[0])
      fail(
        `${image} runs Node ${major}, this machine has ${process.versions.node}: the check would not be faithful`,
      );
    stage = {
      name: as?.toUpperCase() === 'AS' ? name : String(stages.length),
      root: join(scratch, `stage-${stages.length}`),
      workdir: '/',
      env: {},
      record: [],
    };
    mkdirSync(stage.root, { recursive: true });
    stages.push(stage);
    continue;
  }
  if (!stage) fail(`${keyword} before FROM`);
  if (keyword === 'WORKDIR') {
    stage.workdir = posix.resolve(stage.workdir, rest);
    mkdirSync(inStage('.'), { recursive: true });
  } else if (keyword === 'ENV') {
    Object.assign(stage.env, parseEnv(rest));
  } else if (keyword === 'COPY') {
    const words = rest.split(/\s+/);
    const flags = words.filter((w) => w.startsWith('--'));
    const paths = words.filter((w) => !w.startsWith('--'));
    const dest = paths.pop();
    const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
    const source = from === undefined ? null : stages.find((s) => s.name === from);
    if (from !== undefined && !source) fail(`COPY --from=${from}: no earlier stage of that name`);
    const target = inStage(dest);
    const intoDir = dest.endsWith('/') || paths.length > 1;
    for (const path of paths) {
      const src = source ? join(source.root, posix.resolve(source.workdir, path)) : join(root, path);
      if (!source && ignored(relative(root, src))) fail(`COPY ${path}: excluded by .dockerignore`);
      if (!existsSync(src))
        fail(`COPY ${path}: not found${source ? ` in stage ${from}` : ' in the build context'}`);
      const to = statSync(src).isDirectory() ? target : intoDir ? join(target, basename(src)) : target;
      mkdirSync(statSync(src).isDirectory() ? to : dirname(to), { recursive: true });
      cpSync(src, to, {
        recursive: true,
        verbatimSymlinks: true,
        filter: (p) => source !== null || !ignored(relative(root, p)),
      });
    }
  } else if (keyword === 'RUN') {
    if (rest.startsWith('[')) fail('RUN in exec form is not supported here');
    const env = Object.fromEntries(
      PASS_ENV.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]]),
    );
    Object.assign(env, stage.env, { PATH: `${shimDir}:${stage.env.PATH ?? process.env.PATH}` });
    const result = spawnSync('/bin/sh', ['-c', mapPaths(rest, stage.root)], {
      cwd: inStage('.'),
      env,
      stdio: 'inherit',
    });
    if (result.status !== 0)
      fail(`RUN ${rest} (stage ${stage.name}) exited with ${result.status ?? result.signal}`);
  } else if (['USER', 'VOLUME', 'EXPOSE', 'HEALTHCHECK', 'CMD', 'LABEL', 'ENTRYPOINT'].includes(keyword)) {
    stage.record.push({ keyword, rest });
  } else {
    fail(`instruction ${keyword} is not supported by this check: extend .ci/image-check.mjs`);
  }
}

const final = stages.at(-1);
const entry = final?.record.findLast((r) => r.keyword === 'ENTRYPOINT');
if (!entry) fail('the final stage has no ENTRYPOINT');
const entrypoint = JSON.parse(entry.rest);
const env = Object.fromEntries(
  PASS_ENV.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]]),
);
Object.assign(env, final.env);
const cwd = join(final.root, final.workdir);
for (const dev of ['typescript', 'vitest', 'tsx'])
  if (existsSync(join(cwd, 'node_modules', dev))) fail(`the runtime stage carries the dev dependency ${dev}`);
const checks = [
  { args: ['--help'], expect: /Usage: fleet/ },
  { args: ['process', '--help'], expect: /Usage: fleet process/ },
];
for (const check of checks) {
  const [command, ...rest] = entrypoint;
  const result = spawnSync(command, [...rest, ...check.args], {
    cwd,
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  const output = `${result.stdout}${result.stderr}`;
  if (result.status !== 0 || !check.expect.test(output))
    fail(
      `${entrypoint.join(' ')} ${check.args.join(' ')} exited ${result.status ?? result.signal}:\n${output}`,
    );
  log(`${entrypoint.join(' ')} ${check.args.join(' ')}: exit 0, usage printed`);
}
if (!keep) rmSync(scratch, { recursive: true, force: true });
log(`OK: ${stages.length} stages built, entrypoint answers${keep ? ` (kept in ${scratch})` : ''}`);
