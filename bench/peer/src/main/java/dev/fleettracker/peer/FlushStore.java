package dev.fleettracker.peer;

import java.util.Map;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.internals.CacheFlushListener;
import org.apache.kafka.streams.state.internals.CachedStateStore;

/**
 * Holds nothing: it is the hook that makes "commit after both sinks hold the batch" true on every
 * commit path. Before committing a task's offsets (requested when a batch is full, timed by
 * commit.interval.ms = BATCH_MAX_WAIT_MS, or forced by a rebalance or shutdown), Kafka Streams 4.1
 * flushes the caches of the task's stores (StreamTask#prepareCommit → ProcessorStateManager#flushCache);
 * this store's "cache" is the thread's pending batch. No public hook runs before every commit:
 * Processor#close runs after the revocation and shutdown commits, and StateStore#flush only at
 * checkpoints, after the commit (a first version flushed there and committed a record per process()
 * call once its batch was full). CachedStateStore is internal API, hence the pinned Kafka version.
 */
final class FlushStore implements StateStore, CachedStateStore<Object, Object> {
  static final String NAME = "sink-flush";
  private boolean open;

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void init(StateStoreContext context, StateStore root) {
    context.register(root, (key, value) -> {});
    open = true;
  }

  @Override
  public void flushCache() {
    ThreadSinks sinks = ThreadSinks.existing();
    if (sinks != null) sinks.flush();
  }

  @Override
  public void flush() {
    flushCache();
  }

  @Override
  public boolean setFlushListener(CacheFlushListener<Object, Object> listener, boolean sendOldValues) {
    return false;
  }

  @Override
  public void clearCache() {}

  @Override
  public void close() {
    open = false;
  }

  @Override
  public boolean persistent() {
    return false;
  }

  @Override
  public boolean isOpen() {
    return open;
  }

  static StoreBuilder<FlushStore> builder() {
    return new StoreBuilder<>() {
      @Override
      public StoreBuilder<FlushStore> withCachingEnabled() {
        return this;
      }

      @Override
      public StoreBuilder<FlushStore> withCachingDisabled() {
        return this;
      }

      @Override
      public StoreBuilder<FlushStore> withLoggingEnabled(Map<String, String> config) {
        throw new UnsupportedOperationException("the flush store keeps no state to log");
      }

      @Override
      public StoreBuilder<FlushStore> withLoggingDisabled() {
        return this;
      }

      @Override
      public FlushStore build() {
        return new FlushStore();
      }

      @Override
      public Map<String, String> logConfig() {
        return Map.of();
      }

      @Override
      public boolean loggingEnabled() {
        return false;
      }

      @Override
      public String name() {
        return NAME;
      }
    };
  }
}
