import type { PositionRecord } from '../domain/records.js';

/** Fields per record in the packed chunk argument. */
export const RECORD_STRIDE = 7;
/** Lua's C stack caps `unpack` at ~8000 values; GEOADD takes 3 per record. */
export const MAX_CHUNK_RECORDS = 2000;
/** GEO cannot index the polar caps: the geo index clamps there (the state keeps the exact latitude). */
const MAX_GEO_LAT = 85.05112877;

/**
 * The forward-only upsert, one call per chunk of records. Kept as a TS constant (not a .lua file)
 * so the build needs no asset copying; ioredis sends it with EVAL once per connection, then EVALSHA.
 *
 * KEYS: [geo, seen, ids, <hash of record 1>, <hash of record 2>, ...]
 * ARGV: [channel, fields]: `fields` packs RECORD_STRIDE flat fields per record (see
 * `encodeRecord`), each cut out with a plain `string.find` for the next separator.
 *
 * A vehicle hash holds the version (`ts`, `partition`, `offset`) the script compares and `state`,
 * the vehicle's state as JSON, built by the client: the script never assembles or parses JSON, and
 * the same string is stored, published on the changes channel and returned by reads as is.
 *
 * A record is applied when its ts is newer, or (same ts) it comes from the same partition with a
 * higher offset. Offsets of different partitions are not comparable, so a partition change with an
 * equal ts is ignored. Returns the number of applied records.
 */
export const UPSERT_LUA = `
local channel, s = ARGV[1], ARGV[2]
local find, sub = string.find, string.sub
local n = #KEYS - 3
local publish = redis.call('PUBSUB', 'NUMSUB', channel)[2] > 0
local geo, seen, ids, ng, ns, ni = {}, {}, {}, 0, 0, 0
local applied = 0
-- Cut every field out before writing anything: a malformed argument must not leave half a chunk.
local F, nf, pos, len = {}, 0, 1, #s
while pos <= len do
  local e = find(s, '\\31', pos, true)
  if not e then break end
  nf = nf + 1
  F[nf] = sub(s, pos, e - 1)
  pos = e + 1
end
if nf ~= n * ${RECORD_STRIDE} or pos ~= len + 1 then return redis.error_reply('upsert: expected ' .. (n * ${RECORD_STRIDE}) .. ' fields, got ' .. nf) end
local S = ${RECORD_STRIDE}
for i = 1, n do
  local key = KEYS[3 + i]
  local b = (i - 1) * S
  local id, ts, part, off, lon, glat, state = F[b + 1], F[b + 2], F[b + 3], F[b + 4], F[b + 5], F[b + 6], F[b + 7]
  local cur = redis.call('HMGET', key, 'ts', 'partition', 'offset')
  local apply = true
  if cur[1] then
    local nts, cts = tonumber(ts), tonumber(cur[1])
    if nts ~= cts then
      apply = nts > cts
    elseif cur[2] ~= part then
      apply = false
    elseif #off ~= #cur[3] then
      apply = #off > #cur[3]
    else
      apply = off > cur[3]
    end
  end
  if apply then
    redis.call('HSET', key, 'ts', ts, 'partition', part, 'offset', off, 'state', state)
    geo[ng + 1] = lon
    geo[ng + 2] = glat
    geo[ng + 3] = id
    ng = ng + 3
    seen[ns + 1] = ts
    seen[ns + 2] = id
    ns = ns + 2
    if not cur[1] then
      ids[ni + 1] = 0
      ids[ni + 2] = id
      ni = ni + 2
    end
    applied = applied + 1
    if publish then redis.call('PUBLISH', channel, state) end
  end
end
if ng > 0 then redis.call('GEOADD', KEYS[1], unpack(geo)) end
if ns > 0 then redis.call('ZADD', KEYS[2], unpack(seen)) end
if ni > 0 then redis.call('ZADD', KEYS[3], unpack(ids)) end
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
 * plain, and JSON escapes control characters.
 */
export function encodeRecord(record: PositionRecord, updatedAt: number): string {
  const p = record.position;
  const geoLat = p.lat > MAX_GEO_LAT ? MAX_GEO_LAT : p.lat < -MAX_GEO_LAT ? -MAX_GEO_LAT : p.lat;
  return `${p.vehicleId}\x1f${p.ts}\x1f${record.partition}\x1f${record.offset}\x1f${p.lon}\x1f${geoLat}\x1f${stateJson(record, updatedAt)}\x1f`;
}
