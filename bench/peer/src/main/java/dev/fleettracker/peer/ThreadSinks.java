package dev.fleettracker.peer;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pending batch of one stream thread and the sinks it is flushed to (a Redis connection, a
 * DuckDB connection). One per thread, shared by all the thread's tasks: Kafka Streams commits every
 * task of a thread together, so a flush must cover everything the thread has processed, and one
 * write per flush keeps batches as large as ours (one per task would cut them by the partition count).
 */
final class ThreadSinks {
  private static final Logger log = LoggerFactory.getLogger(ThreadSinks.class);
  private static final ConcurrentHashMap<Thread, ThreadSinks> BY_THREAD = new ConcurrentHashMap<>();

  private final RedisLatestState redis;
  private final DuckDbWarehouse warehouse;
  private final PeerConfig config;
  private List<Position> pending;
  private long pendingBytes;
  /** When the oldest pending record arrived (System.nanoTime). */
  private long pendingSince;
  private long flushedRecords;

  private ThreadSinks(PeerConfig config) throws Exception {
    this.config = config;
    this.redis = new RedisLatestState(config);
    this.warehouse = new DuckDbWarehouse(config);
    this.pending = new ArrayList<>(config.batchMaxRecords());
  }

  /** The calling stream thread's sinks, opened on first use. */
  static ThreadSinks current(PeerConfig config) {
    return BY_THREAD.computeIfAbsent(Thread.currentThread(), t -> {
      try {
        return new ThreadSinks(config);
      } catch (Exception e) {
        throw new IllegalStateException("cannot open the sinks: " + e.getMessage(), e);
      }
    });
  }

  /** The calling thread's sinks if it has any (a store flushed from another thread has nothing pending). */
  static ThreadSinks existing() {
    return BY_THREAD.get(Thread.currentThread());
  }

  /** Buffers a position; true when the batch is full and should be flushed (by a commit). */
  boolean add(Position p) {
    if (pending.isEmpty()) pendingSince = System.nanoTime();
    pending.add(p);
    pendingBytes += p.bytes();
    return pending.size() >= config.batchMaxRecords() || pendingBytes >= config.batchMaxBytes();
  }

  /** True when records have waited BATCH_MAX_WAIT_MS: the partial batch should be flushed. */
  boolean due() {
    return !pending.isEmpty() && System.nanoTime() - pendingSince >= config.batchMaxWaitMs() * 1_000_000L;
  }

  /** Writes the pending batch to Redis, then DuckDB; throws (failing the commit) if either fails. */
  void flush() {
    if (pending.isEmpty()) return;
    List<Position> batch = pending;
    long started = System.nanoTime();
    long redisNs;
    try {
      redis.upsert(batch);
      redisNs = System.nanoTime() - started;
      warehouse.write(batch);
    } catch (Exception e) {
      throw new IllegalStateException("flush of " + batch.size() + " records failed: " + e.getMessage(), e);
    }
    flushedRecords += batch.size();
    long doneNs = System.nanoTime();
    if (log.isDebugEnabled())
      log.debug("flushed {} records: redis {} ms, duckdb {} ms", batch.size(), redisNs / 1_000_000,
          (doneNs - started - redisNs) / 1_000_000);
    pending = new ArrayList<>(config.batchMaxRecords());
    pendingBytes = 0;
  }

  /** Closes every thread's sinks (after KafkaStreams.close(), which flushed them). */
  static void closeAll() {
    for (ThreadSinks sinks : BY_THREAD.values()) {
      if (!sinks.pending.isEmpty())
        log.warn("{} records were never flushed (their offsets were not committed)", sinks.pending.size());
      log.info("closing sinks after {} flushed records", sinks.flushedRecords);
      sinks.redis.close();
      try {
        sinks.warehouse.close();
      } catch (Exception e) {
        log.warn("closing duckdb: {}", e.getMessage());
      }
    }
    BY_THREAD.clear();
  }
}
