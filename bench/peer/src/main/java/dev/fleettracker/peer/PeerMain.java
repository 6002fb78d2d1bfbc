package dev.fleettracker.peer;

import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kafka Streams peer of `fleet process`: positions topic → latest state in Redis (forward-only
 * Lua upsert) + every position in DuckDB, offsets committed after both hold a batch. Runs until
 * SIGTERM (drains: flushes, commits, closes) or a fatal error (exit 1).
 */
public final class PeerMain {
  private static final Logger log = LoggerFactory.getLogger(PeerMain.class);

  public static void main(String[] args) throws Exception {
    PeerConfig config;
    try {
      config = PeerConfig.fromEnv(System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.println("fleet peer: bad config: " + e.getMessage());
      System.exit(2);
      return;
    }
    var streams = new KafkaStreams(topology(config), properties(config));
    var stopped = new CountDownLatch(1);
    var exitCode = new AtomicInteger(0);
    streams.setUncaughtExceptionHandler(e -> {
      log.error("stream thread failed", e);
      exitCode.set(1);
      return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    streams.setStateListener((now, before) -> {
      log.info("state {} -> {}", before, now);
      if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) stopped.countDown();
    });
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      close(streams);
      stopped.countDown();
    }, "peer-shutdown"));
    streams.start();
    log.info("peer started: topic {}, group {}, {} stream thread(s), batches of {} records or {} ms",
        config.topic(), config.applicationId(), config.streamThreads(), config.batchMaxRecords(),
        config.batchMaxWaitMs());
    stopped.await();
    close(streams);
    if (exitCode.get() != 0) Runtime.getRuntime().halt(exitCode.get());
  }

  private static synchronized void close(KafkaStreams streams) {
    // close() commits (so flushes) every task; the sinks close after it.
    streams.close(Duration.ofSeconds(60));
    ThreadSinks.closeAll();
  }

  static Topology topology(PeerConfig config) {
    var builder = new StreamsBuilder();
    builder.addStateStore(FlushStore.builder());
    builder.stream(config.topic(), Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()))
        .process(() -> new PositionProcessor(config), FlushStore.NAME)
        .to(config.dlqTopic(), Produced.with(Serdes.ByteArray(), Serdes.ByteArray()));
    return builder.build();
  }

  static Properties properties(PeerConfig config) {
    var p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, config.applicationId());
    p.put(StreamsConfig.CLIENT_ID_CONFIG, "fleet-peer");
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, config.brokers());
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE);
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, config.streamThreads());
    // Commits are requested by the processor (full batch, or BATCH_MAX_WAIT_MS passed): a timer of
    // its own would flush a few records right after every full batch.
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 24 * 3600_000L);
    p.put(StreamsConfig.STATE_DIR_CONFIG, config.stateDir());
    p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
    // The fetch settings of `fleet process` (same variables, same defaults).
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), config.autoOffsetReset());
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_POLL_RECORDS_CONFIG), config.maxPollRecords());
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.FETCH_MIN_BYTES_CONFIG), config.fetchMinBytes());
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG), config.fetchMaxWaitMs());
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG),
        config.fetchMaxBytesPerPartition());
    return p;
  }
}
