import type { PositionRecord } from '../domain/records.js';
import { clampGeoLat } from './list-vehicles.js';

/** Fields per record in the packed chunk argument. */
export const RECORD_STRIDE = 7;
/** Lua's C stack caps `unpack` at ~8000 values; GEOADD takes 3 per record. */
export const MAX_CHUNK_RECORDS = 2000;

/**
 * The forward-only upsert, one call per chunk of records. Kept as a TS constant (not a .lua file)
 * so the build needs no asset copying; ioredis sends it with EVAL once per connection, then EVALSHA.
 *
 * KEYS: [geo, seen, ids, states, versions], all of one shard (one hash tag, so one cluster slot)
 * ARGV: [channel, fields, sharded, current]: `sharded` = '1' publishes with SPUBLISH (sharded
 * pub/sub, the only kind whose subscribers a cluster node can count and reach from its own slot),
 * else PUBLISH. `current` = '1' returns `{applied, i…}` instead of `applied`: the 1-based chunk
 * indices of the records that are the vehicle's state after the call — applied now, or the very
 * record (same partition and offset) the table already held. The changelog needs the second kind:
 * a record applied before a crash but whose changelog write was never acknowledged is read again
 * and must be logged then, though the table no longer moves.
 * `fields` packs RECORD_STRIDE flat fields per record (see
 * `encodeRecord`), each cut out with a plain `string.find` for the next separator.
 *
 * Whole-shard keys, not a key per vehicle: `states` (HASH id → state JSON, built by the client:
 * stored, published and returned by reads as is), `seen` (ZSET id → event ts, which is also the
 * version's ts), `versions` (HASH id → `partition:offset`, consulted only on equal ts). So a chunk
 * costs a fixed handful of commands — one ZMSCORE reads every current ts, one HSET per hash
 * writes every applied record — instead of two or three per record: `redis.call` overhead, not
 * the data structures, dominated the script.
 *
 * A record is applied when its ts is newer, or (same ts) it comes from the same partition with a
 * higher offset. Offsets of different partitions are not comparable, so a partition change with an
 * equal ts is ignored. Records of one vehicle within a chunk are applied in order. Returns the
 * number of applied records. Subscribers of the changes channel get one message per chunk: a JSON
 * array of the applied states, in order.
 */
export const UPSERT_LUA = `
local channel, s, sharded, wantCurrent = ARGV[1], ARGV[2], ARGV[3] == '1', ARGV[4] == '1'
local find, sub = string.find, string.sub
local S = ${RECORD_STRIDE}
-- Cut every field out before writing anything: a malformed argument must not leave half a chunk.
local F, nf, pos, len = {}, 0, 1, #s
while pos <= len do
  local e = find(s, '\\31', pos, true)
  if not e then break end
  nf = nf + 1
  F[nf] = sub(s, pos, e - 1)
  pos = e + 1
end
local n = nf / S
if n < 1 or nf % S ~= 0 or pos ~= len + 1 then return redis.error_reply('upsert: malformed chunk (' .. nf .. ' fields)') end
local ids = {}
for i = 1, n do ids[i] = F[(i - 1) * S + 1] end
local current = redis.call('ZMSCORE', KEYS[2], unpack(ids))
local publish
if sharded then
  publish = redis.call('PUBSUB', 'SHARDNUMSUB', channel)[2] > 0
else
  publish = redis.call('PUBSUB', 'NUMSUB', channel)[2] > 0
end
-- Versions decided earlier in this chunk (a vehicle may occur more than once).
local latestTs, latestVersion = {}, {}
local states, versions, geo, seen, new, changes = {}, {}, {}, {}, {}, {}
local nst, nv, ng, ns, nn = 0, 0, 0, 0, 0
local applied, held, nh = 0, {}, 0
for i = 1, n do
  local b = (i - 1) * S
  local id, ts, part, off = F[b + 1], F[b + 2], F[b + 3], F[b + 4]
  local version = part .. ':' .. off
  local cts, cver = latestTs[id], latestVersion[id]
  if not cts and current[i] then
    cts = tonumber(current[i])
  end
  local apply = true
  if cts then
    local nts = tonumber(ts)
    if nts ~= cts then
      apply = nts > cts
    else
      cver = cver or redis.call('HGET', KEYS[5], id)
      local cpart, coff = string.match(cver or '', '^([^:]*):(.*)$')
      if not cpart then
        apply = true -- no version stored (a damaged table): the record repairs it
      elseif cpart ~= part then
        apply = false
      elseif #off ~= #coff then
        apply = #off > #coff
      else
        apply = off > coff
        if off == coff and wantCurrent then
          nh = nh + 1
          held[nh] = i
        end
      end
    end
  end
  if apply then
    local state = F[b + 7]
    if not cts then
      new[nn + 1] = 0
      new[nn + 2] = id
      nn = nn + 2
    end
    latestTs[id] = tonumber(ts)
    latestVersion[id] = version
    states[nst + 1] = id
    states[nst + 2] = state
    nst = nst + 2
    versions[nv + 1] = id
    versions[nv + 2] = version
    nv = nv + 2
    geo[ng + 1] = F[b + 5]
    geo[ng + 2] = F[b + 6]
    geo[ng + 3] = id
    ng = ng + 3
    seen[ns + 1] = ts
    seen[ns + 2] = id
    ns = ns + 2
    applied = applied + 1
    if publish then changes[applied] = state end
    if wantCurrent then
      nh = nh + 1
      held[nh] = i
    end
  end
end
if applied > 0 then
  redis.call('HSET', KEYS[4], unpack(states))
  redis.call('HSET', KEYS[5], unpack(versions))
  redis.call('GEOADD', KEYS[1], unpack(geo))
  redis.call('ZADD', KEYS[2], unpack(seen))
  if nn > 0 then redis.call('ZADD', KEYS[3], unpack(new)) end
  if publish then redis.call(sharded and 'SPUBLISH' or 'PUBLISH', channel, '[' .. table.concat(changes, ',') .. ']') end
end
if wantCurrent then return {applied, unpack(held, 1, nh)} end
return applied
`;

/**
 * The vehicle's state as JSON (a `VehicleState`), built by concatenation: every number is finite
 * (validated), so `String(n)` is valid JSON, and ids match VEHICLE_ID_PATTERN (nothing to escape).
 */
export function stateJson(record: PositionRecord, updatedAt: number): string {
  const p = record.position;
  let json = `{"vehicleId":"${p.vehicleId}","ts":${p.ts},"lat":${p.lat},"lon":${p.lon}`;
  if (p.speed !== undefined) json += `,"speed":${p.speed}`;
  if (p.heading !== undefined) json += `,"heading":${p.heading}`;
  if (p.altitude !== undefined) json += `,"altitude":${p.altitude}`;
  if (p.accuracy !== undefined) json += `,"accuracy":${p.accuracy}`;
  if (p.battery !== undefined) json += `,"battery":${p.battery}`;
  if (p.attributes !== undefined) json += `,"attributes":${JSON.stringify(p.attributes)}`;
  return `${json},"partition":${record.partition},"offset":"${record.offset}","updatedAt":${updatedAt}}`;
}

/**
 * One record's fields, each followed by a unit separator (0x1f), in the order the script reads
 * them: id, ts, partition, offset, GEO longitude, GEO latitude (clamped), state JSON. A chunk
 * travels as ONE argument (the concatenation): per-argument client and server overhead dominated
 * when every field was its own argument. No field can contain 0x1f: ids are validated, numbers are
 * plain, and JSON escapes control characters. `state` is the record's `stateJson`, when the caller
 * built it already (the changelog logs the same text: built once, not twice).
 */
export function encodeRecord(
  record: PositionRecord,
  updatedAt: number,
  state: string = stateJson(record, updatedAt),
): string {
  const p = record.position;
  // GEO cannot index the polar caps: the index is clamped there, the state keeps the exact latitude.
  return `${p.vehicleId}\x1f${p.ts}\x1f${record.partition}\x1f${record.offset}\x1f${p.lon}\x1f${clampGeoLat(p.lat)}\x1f${state}\x1f`;
}
