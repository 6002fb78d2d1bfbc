import type { PositionRecord } from '../domain/records.js';

/** Fields per record in the packed chunk argument. */
export const RECORD_STRIDE = 12;
/** Lua's C stack caps `unpack` at ~8000 values; GEOADD takes 3 per record. */
export const MAX_CHUNK_RECORDS = 2000;

/**
 * The forward-only upsert, one call per chunk of records. Kept as a TS constant (not a .lua file)
 * so the build needs no asset copying; ioredis sends it with EVAL once per connection, then EVALSHA.
 *
 * KEYS: [geo, seen, ids, <hash of record 1>, <hash of record 2>, ...]
 * ARGV: [updatedAt, channel, fields]: `fields` packs RECORD_STRIDE flat fields per record (see
 * `encodeRecord`), split with one `string.gmatch` pass; absent optional fields are '' so every
 * record has the same stride. No cjson: change messages are concatenated from the same fields.
 *
 * A record is applied when its ts is newer, or (same ts) it comes from the same partition with a
 * higher offset. Offsets of different partitions are not comparable, so a partition change with an
 * equal ts is ignored. Returns the number of applied records.
 */
export const UPSERT_LUA = `
local updatedAt, channel = ARGV[1], ARGV[2]
local F, nf = {}, 0
for f in string.gmatch(ARGV[3], '([^\\31]*)\\31') do
  nf = nf + 1
  F[nf] = f
end
if nf ~= (#KEYS - 3) * ${RECORD_STRIDE} then return redis.error_reply('upsert: expected ' .. ((#KEYS - 3) * ${RECORD_STRIDE}) .. ' fields, got ' .. nf) end
local S = ${RECORD_STRIDE}
local OPT = {'speed', 'heading', 'altitude', 'accuracy', 'battery', 'attributes'}
local OPT_JSON = {',"speed":', ',"heading":', ',"altitude":', ',"accuracy":', ',"battery":', ',"attributes":'}
local MAX_LAT, MAX_LAT_S = 85.05112877, '85.05112877'
local publish = redis.call('PUBSUB', 'NUMSUB', channel)[2] > 0
local geo, seen, ids, ng, ns, ni = {}, {}, {}, 0, 0, 0
local applied = 0
for i = 1, #KEYS - 3 do
  local key = KEYS[3 + i]
  local b = (i - 1) * S
  local id, ts, part, off, lat, lon = F[b + 1], F[b + 2], F[b + 3], F[b + 4], F[b + 5], F[b + 6]
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
    local h, nh, del, nd = {'vehicleId', id, 'ts', ts, 'lat', lat, 'lon', lon, 'partition', part, 'offset', off, 'updatedAt', updatedAt}, 14, nil, 0
    for j = 1, 6 do
      local v = F[b + 6 + j]
      if v ~= '' then
        h[nh + 1] = OPT[j]
        h[nh + 2] = v
        nh = nh + 2
      elseif cur[1] then
        if nd == 0 then del = {} end
        nd = nd + 1
        del[nd] = OPT[j]
      end
    end
    redis.call('HSET', key, unpack(h))
    if nd > 0 then redis.call('HDEL', key, unpack(del)) end
    -- GEO cannot index the polar caps: clamp there (the hash keeps the exact latitude).
    local glat = lat
    if tonumber(lat) > MAX_LAT then glat = MAX_LAT_S elseif tonumber(lat) < -MAX_LAT then glat = '-' .. MAX_LAT_S end
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
    if publish then
      local j, nj = {'{"vehicleId":"', id, '","ts":', ts, ',"lat":', lat, ',"lon":', lon}, 8
      for k = 1, 6 do
        local v = F[b + 6 + k]
        if v ~= '' then
          j[nj + 1] = OPT_JSON[k]
          j[nj + 2] = v
          nj = nj + 2
        end
      end
      j[nj + 1] = ',"partition":'
      j[nj + 2] = part
      j[nj + 3] = ',"offset":"'
      j[nj + 4] = off
      j[nj + 5] = '","updatedAt":'
      j[nj + 6] = updatedAt
      j[nj + 7] = '}'
      redis.call('PUBLISH', channel, table.concat(j))
    end
  end
end
if ng > 0 then redis.call('GEOADD', KEYS[1], unpack(geo)) end
if ns > 0 then redis.call('ZADD', KEYS[2], unpack(seen)) end
if ni > 0 then redis.call('ZADD', KEYS[3], unpack(ids)) end
return applied
`;

const opt = (v: number | undefined): string => (v === undefined ? '' : String(v));

/**
 * One record's fields, each followed by a unit separator (0x1f), in the order the script reads
 * them. A chunk travels as ONE argument (the concatenation): per-argument client and server
 * overhead dominated when every field was its own argument. No field can contain 0x1f: ids are
 * validated, numbers are plain, and JSON escapes control characters.
 */
export function encodeRecord(record: PositionRecord): string {
  const p = record.position;
  const attributes = p.attributes === undefined ? '' : JSON.stringify(p.attributes);
  return `${p.vehicleId}\x1f${p.ts}\x1f${record.partition}\x1f${record.offset}\x1f${p.lat}\x1f${p.lon}\x1f${opt(p.speed)}\x1f${opt(p.heading)}\x1f${opt(p.altitude)}\x1f${opt(p.accuracy)}\x1f${opt(p.battery)}\x1f${attributes}\x1f`;
}
