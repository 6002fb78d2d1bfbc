package dev.fleettracker.peer;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.exceptions.JedisNoScriptException;

/**
 * The latest-state table, written exactly as src/state/redis-state-table.ts writes it: the same Lua
 * script (its text is handed over by the bench), the same shard keys under the prefix (shard p, hash
 * tag {p<p>}, holds partition p's vehicles: src/state/shard-keys.ts), the same packed chunk
 * argument, one EVALSHA per chunk and every chunk of a batch in one pipeline.
 */
final class RedisLatestState implements AutoCloseable {
  private static final char SEP = '\u001f';
  private static final double GEO_MAX_LAT = 85.05112877;

  private final Jedis jedis;
  private final String script;
  private final String prefix;
  private final int chunkRecords;
  private String sha;

  RedisLatestState(PeerConfig config) {
    this.jedis = new Jedis(URI.create(config.redisUrl()), 10_000);
    this.script = config.upsertLua();
    this.prefix = config.redisPrefix();
    this.chunkRecords = config.redisChunkRecords();
    this.sha = jedis.scriptLoad(script);
  }

  /** Applies a batch (forward-only); returns how many records changed a vehicle's state. */
  long upsert(List<Position> batch) {
    if (batch.isEmpty()) return 0;
    List<Position> records = NewestPerVehicle.of(batch);
    long updatedAt = System.currentTimeMillis();
    // One shard per partition: a chunk holds records of one partition only.
    var byPartition = new TreeMap<Integer, List<Position>>();
    for (Position p : records) byPartition.computeIfAbsent(p.partition(), k -> new ArrayList<>()).add(p);
    var chunks = new ArrayList<Chunk>();
    var fields = new StringBuilder(chunkRecords * 400);
    for (var shard : byPartition.entrySet()) {
      List<Position> part = shard.getValue();
      for (int i = 0; i < part.size(); i++) {
        encode(fields, part.get(i), updatedAt);
        if ((i + 1) % chunkRecords == 0 || i == part.size() - 1) {
          chunks.add(new Chunk(shard.getKey(), fields.toString()));
          fields.setLength(0);
        }
      }
    }
    try {
      return send(chunks);
    } catch (JedisNoScriptException e) {
      // Redis restarted or flushed its scripts: load again and resend (the upsert is idempotent).
      sha = jedis.scriptLoad(script);
      return send(chunks);
    }
  }

  private record Chunk(int shard, String fields) {}

  private long send(List<Chunk> chunks) {
    Pipeline pipeline = jedis.pipelined();
    var replies = new ArrayList<Response<Object>>(chunks.size());
    for (Chunk chunk : chunks) {
      String base = prefix + "{p" + chunk.shard() + "}:";
      List<String> keys = List.of(base + "geo", base + "seen", base + "ids", base + "states", base + "versions");
      // ARGV: channel, fields, sharded pub/sub ('0': one Redis), current states wanted ('0': no changelog).
      replies.add(pipeline.evalsha(sha, keys, List.of(base + "changes", chunk.fields(), "0", "0")));
    }
    pipeline.sync();
    long applied = 0;
    for (Response<Object> reply : replies) applied += (Long) reply.get();
    return applied;
  }

  /** One record, as `encodeRecord` of src/state/upsert-script.ts. */
  static void encode(StringBuilder out, Position p, long updatedAt) {
    out.append(p.vehicleId()).append(SEP).append(p.ts()).append(SEP).append(p.partition()).append(SEP)
        .append(p.offset()).append(SEP).append(p.lonText()).append(SEP);
    // GEO cannot index the polar caps: the index is clamped there, the state keeps the exact latitude.
    if (p.lat() > GEO_MAX_LAT) out.append(GEO_MAX_LAT);
    else if (p.lat() < -GEO_MAX_LAT) out.append(-GEO_MAX_LAT);
    else out.append(p.latText());
    out.append(SEP);
    stateJson(out, p, updatedAt);
    out.append(SEP);
  }

  /** The VehicleState JSON, as `stateJson` of src/state/upsert-script.ts. */
  static void stateJson(StringBuilder out, Position p, long updatedAt) {
    out.append("{\"vehicleId\":\"").append(p.vehicleId()).append("\",\"ts\":").append(p.ts())
        .append(",\"lat\":").append(p.latText()).append(",\"lon\":").append(p.lonText());
    if (p.speedText() != null) out.append(",\"speed\":").append(p.speedText());
    if (p.headingText() != null) out.append(",\"heading\":").append(p.headingText());
    if (p.altitudeText() != null) out.append(",\"altitude\":").append(p.altitudeText());
    if (p.accuracyText() != null) out.append(",\"accuracy\":").append(p.accuracyText());
    if (p.batteryText() != null) out.append(",\"battery\":").append(p.batteryText());
    if (p.attributesJson() != null) out.append(",\"attributes\":").append(p.attributesJson());
    out.append(",\"partition\":").append(p.partition()).append(",\"offset\":\"").append(p.offset())
        .append("\",\"updatedAt\":").append(updatedAt).append('}');
  }

  @Override
  public void close() {
    jedis.close();
  }
}
