package dev.fleettracker.peer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.List;
import org.duckdb.DuckDBAppender;
import org.duckdb.DuckDBConnection;

/**
 * The positions table, written as src/sinks/duckdb-sink.ts writes it: the same columns and primary
 * key and the same unique position (vehicle, ts), the batch appended (JDBC Appender, no SQL per
 * row) to a connection-private temp table, then inserted in one transaction without the records
 * and positions already stored (the same range-bounded anti-joins as ours: `ON CONFLICT DO NOTHING`
 * with two unique keys costs DuckDB time growing with the table). The
 * same memory_limit (DUCKDB_MEMORY_LIMIT), doubled up to DUCKDB_MEMORY_MAX when the primary-key
 * index outgrows it.
 */
final class DuckDbWarehouse implements AutoCloseable {
  private final DuckDBConnection connection;
  private final String table;
  private final String stage;
  private long limitBytes;
  private final long maxLimitBytes;

  DuckDbWarehouse(PeerConfig config) throws Exception {
    Path file = Path.of(config.duckdbPath()).toAbsolutePath();
    if (file.getParent() != null) Files.createDirectories(file.getParent());
    this.table = config.warehouseTable();
    this.stage = table + "_stage";
    this.limitBytes = config.duckdbMemoryLimitBytes();
    this.maxLimitBytes = config.duckdbMemoryMaxBytes();
    this.connection = (DuckDBConnection) DriverManager.getConnection("jdbc:duckdb:" + file);
    try (Statement s = connection.createStatement()) {
      s.execute("SET memory_limit = '" + limitBytes / 1024 / 1024 + "MiB'");
      s.execute("CREATE TABLE IF NOT EXISTS " + table + " (vehicle_id VARCHAR NOT NULL, ts TIMESTAMPTZ NOT NULL,"
          + " lat DOUBLE NOT NULL, lon DOUBLE NOT NULL, speed DOUBLE, heading DOUBLE, altitude DOUBLE,"
          + " accuracy DOUBLE, battery DOUBLE, attributes JSON, kafka_topic VARCHAR NOT NULL,"
          + " kafka_partition INTEGER NOT NULL, kafka_offset BIGINT NOT NULL, kafka_ts TIMESTAMPTZ,"
          + " ingested_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,"
          + " PRIMARY KEY (kafka_topic, kafka_partition, kafka_offset), UNIQUE (vehicle_id, ts))");
      s.execute("CREATE TEMP TABLE IF NOT EXISTS " + stage + " (vehicle_id VARCHAR, ts_ms BIGINT, lat DOUBLE,"
          + " lon DOUBLE, speed DOUBLE, heading DOUBLE, altitude DOUBLE, accuracy DOUBLE, battery DOUBLE,"
          + " attributes VARCHAR, kafka_topic VARCHAR, kafka_partition INTEGER, kafka_offset BIGINT,"
          + " kafka_ts_ms BIGINT)");
    }
    connection.setAutoCommit(false);
  }

  /** Stores a batch; returns the rows inserted (records already stored are skipped). */
  long write(List<Position> batch) throws SQLException {
    if (batch.isEmpty()) return 0;
    for (;;) {
      try {
        return writeOnce(batch);
      } catch (SQLException e) {
        connection.rollback();
        if (!growMemoryLimit(e)) throw e;
      }
    }
  }

  private long writeOnce(List<Position> batch) throws SQLException {
    try (Statement s = connection.createStatement()) {
      s.execute("DELETE FROM " + stage);
      var seen = new HashSet<Long>(batch.size() * 2);
      var positions = new HashSet<String>(batch.size() * 2);
      try (DuckDBAppender a = connection.createAppender("temp", "main", stage)) {
        for (Position p : batch) {
          // Never two rows for one record, even from one batch (partition and offset pack into a key).
          if (!seen.add(((long) p.partition() << 48) ^ p.offset())) continue;
          // Nor two rows for one position (a device's retry), as ours.
          if (!positions.add(p.ts() + "\u0000" + p.vehicleId())) continue;
          a.beginRow();
          a.append(p.vehicleId());
          a.append(p.ts());
          a.append(p.lat());
          a.append(p.lon());
          nullable(a, p.speed());
          nullable(a, p.heading());
          nullable(a, p.altitude());
          nullable(a, p.accuracy());
          nullable(a, p.battery());
          if (p.attributesJson() == null) a.appendNull();
          else a.append(p.attributesJson());
          a.append(p.topic());
          a.append(p.partition());
          a.append(p.offset());
          a.append(p.kafkaTs());
          a.endRow();
        }
      }
      long inserted = s.executeUpdate("INSERT INTO " + table + " (vehicle_id, ts, lat, lon, speed, heading,"
          + " altitude, accuracy, battery, attributes, kafka_topic, kafka_partition, kafka_offset, kafka_ts)"
          + " SELECT vehicle_id, make_timestamptz(ts_ms * 1000), lat, lon, speed, heading, altitude, accuracy,"
          + " battery, CAST(attributes AS JSON), kafka_topic, kafka_partition, kafka_offset,"
          + " make_timestamptz(kafka_ts_ms * 1000) FROM " + stage + " s"
          + " WHERE NOT EXISTS (SELECT 1 FROM " + table + " t WHERE t.ts BETWEEN"
          + " (SELECT make_timestamptz(min(ts_ms) * 1000) FROM " + stage + ") AND"
          + " (SELECT make_timestamptz(max(ts_ms) * 1000) FROM " + stage + ")"
          + " AND t.vehicle_id = s.vehicle_id AND t.ts = make_timestamptz(s.ts_ms * 1000))"
          + " AND NOT EXISTS (SELECT 1 FROM " + table + " t WHERE t.kafka_offset BETWEEN"
          + " (SELECT min(kafka_offset) FROM " + stage + ") AND (SELECT max(kafka_offset) FROM " + stage + ")"
          + " AND t.kafka_offset = s.kafka_offset AND t.kafka_partition = s.kafka_partition"
          + " AND t.kafka_topic = s.kafka_topic)");
      connection.commit();
      return inserted;
    }
  }

  private static void nullable(DuckDBAppender a, Double v) throws SQLException {
    if (v == null) a.appendNull();
    else a.append(v.doubleValue());
  }

  /** The primary-key index must fit in memory_limit: double it (up to the ceiling) and try again. */
  private boolean growMemoryLimit(SQLException e) throws SQLException {
    String m = String.valueOf(e.getMessage());
    boolean oom = m.contains("Out of Memory") || m.matches("(?is).*(could not|failed to) allocate.*");
    if (!oom || limitBytes >= maxLimitBytes) return false;
    limitBytes = Math.min(limitBytes * 2, maxLimitBytes);
    try (Statement s = connection.createStatement()) {
      s.execute("SET memory_limit = '" + limitBytes / 1024 / 1024 + "MiB'");
    }
    connection.commit();
    return true;
  }

  @Override
  public void close() throws SQLException {
    ((Connection) connection).close();
  }
}
