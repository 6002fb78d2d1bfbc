package dev.fleettracker.peer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The peer's settings, from the same environment variables as `fleet process` (same names, same
 * defaults), plus PEER_* ones of its own. A bad value fails at start naming the variable.
 */
record PeerConfig(
    String brokers,
    String topic,
    String dlqTopic,
    String applicationId,
    String autoOffsetReset,
    int maxPollRecords,
    int fetchMinBytes,
    int fetchMaxWaitMs,
    int fetchMaxBytesPerPartition,
    int batchMaxRecords,
    long batchMaxBytes,
    int batchMaxWaitMs,
    String redisUrl,
    String redisPrefix,
    int redisChunkRecords,
    String upsertLua,
    String duckdbPath,
    String warehouseTable,
    long duckdbMemoryLimitBytes,
    long duckdbMemoryMaxBytes,
    int streamThreads,
    String stateDir) {

  static PeerConfig fromEnv(Map<String, String> env) {
    var r = new Reader(env);
    String topic = r.string("TOPIC", "vehicle_positions");
    String table = r.string("WAREHOUSE_TABLE", "positions");
    if (!table.matches("[A-Za-z_][A-Za-z0-9_]{0,127}"))
      throw new IllegalArgumentException("WAREHOUSE_TABLE: '" + table + "' is not a plain identifier");
    String prefix = r.string("REDIS_PREFIX", "fleet:");
    if (!prefix.matches("[A-Za-z0-9:_.-]*"))
      throw new IllegalArgumentException("REDIS_PREFIX: '" + prefix + "' may hold only [A-Za-z0-9:_.-]");
    long memoryLimit = r.size("DUCKDB_MEMORY_LIMIT", "48MB");
    long memoryMax = Math.max(memoryLimit,
        r.size("DUCKDB_MEMORY_MAX", totalMemoryBytes() / 4 + "B"));
    return new PeerConfig(
        r.required("KAFKA_BROKERS"),
        topic,
        r.string("DLQ_TOPIC", topic + ".dlq"),
        r.string("CONSUMER_GROUP", "fleet-processor-peer"),
        r.oneOf("AUTO_OFFSET_RESET", "earliest", "earliest", "latest"),
        r.integer("MAX_POLL_RECORDS", 5000, 1),
        r.integer("FETCH_MIN_BYTES", 1, 1),
        r.integer("FETCH_MAX_WAIT_MS", 500, 0),
        r.integer("FETCH_MAX_BYTES_PER_PARTITION", 262_144, 1024),
        r.integer("BATCH_MAX_RECORDS", 10_000, 1),
        r.integer("BATCH_MAX_BYTES", 8_388_608, 1024),
        r.integer("BATCH_MAX_WAIT_MS", 5000, 1),
        r.string("REDIS_URL", "redis://127.0.0.1:6379"),
        prefix,
        Math.min(2000, r.integer("PEER_REDIS_CHUNK_RECORDS", 1000, 1)),
        r.file("PEER_UPSERT_LUA"),
        r.string("DUCKDB_PATH", "data/fleet-peer.duckdb"),
        table,
        memoryLimit,
        memoryMax,
        r.integer("PEER_STREAM_THREADS", 1, 1),
        r.string("PEER_STATE_DIR", System.getProperty("java.io.tmpdir") + "/fleet-peer-state"));
  }

  private static long totalMemoryBytes() {
    var os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getTotalMemorySize() : 4L << 30;
  }

  private record Reader(Map<String, String> env) {
    String string(String name, String fallback) {
      String v = env.get(name);
      return v == null || v.isEmpty() ? fallback : v;
    }

    String required(String name) {
      String v = env.get(name);
      if (v == null || v.isEmpty()) throw new IllegalArgumentException(name + " is required");
      return v;
    }

    int integer(String name, int fallback, int min) {
      String v = env.get(name);
      if (v == null || v.isEmpty()) return fallback;
      try {
        int n = Integer.parseInt(v.replace("_", ""));
        if (n < min) throw new IllegalArgumentException(name + ": must be >= " + min + ", got " + v);
        return n;
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(name + ": '" + v + "' is not an integer");
      }
    }

    String oneOf(String name, String fallback, String... allowed) {
      String v = string(name, fallback);
      for (String a : allowed) if (a.equals(v)) return v;
      throw new IllegalArgumentException(name + ": '" + v + "' is not one of " + String.join(", ", allowed));
    }

    /** `48MB` → bytes, DuckDB's units (KB = 1000, KiB = 1024). */
    long size(String name, String fallback) {
      String v = string(name, fallback).trim();
      var m = java.util.regex.Pattern.compile("(?i)^(\\d+(?:\\.\\d+)?)\\s*([a-z]+)$").matcher(v);
      if (!m.matches()) throw new IllegalArgumentException(name + ": '" + v + "' is not a size like 48MB");
      long unit = switch (m.group(2).toLowerCase()) {
        case "b" -> 1L;
        case "kb" -> 1000L;
        case "mb" -> 1000_000L;
        case "gb" -> 1000_000_000L;
        case "kib" -> 1024L;
        case "mib" -> 1024L * 1024;
        case "gib" -> 1024L * 1024 * 1024;
        default -> throw new IllegalArgumentException(name + ": unknown unit in '" + v + "'");
      };
      return (long) (Double.parseDouble(m.group(1)) * unit);
    }

    String file(String name) {
      String path = required(name);
      try {
        return Files.readString(Path.of(path), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new IllegalArgumentException(name + ": cannot read " + path + ": " + e.getMessage());
      }
    }
  }
}
