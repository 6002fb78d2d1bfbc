package dev.fleettracker.peer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;

/**
 * Decodes each record into the thread's pending batch and asks for a commit once the batch is full
 * (BATCH_MAX_RECORDS or BATCH_MAX_BYTES) or its oldest record has waited BATCH_MAX_WAIT_MS (a
 * wall-clock punctuation); the commit flushes the batch first (see {@link FlushStore}).
 * Records that are not valid positions are forwarded, with the reason in a header, to the DLQ sink.
 */
final class PositionProcessor implements Processor<byte[], byte[], byte[], byte[]> {
  private final PeerConfig config;
  private final PositionParser parser = new PositionParser();
  private ProcessorContext<byte[], byte[]> context;
  private ThreadSinks sinks;

  PositionProcessor(PeerConfig config) {
    this.config = config;
  }

  @Override
  public void init(ProcessorContext<byte[], byte[]> context) {
    this.context = context;
    // The time bound of a batch, as BATCH_MAX_WAIT_MS bounds ours: a partial batch is committed
    // (so flushed) once its oldest record has waited that long.
    Duration every = Duration.ofMillis(Math.max(10, config.batchMaxWaitMs() / 5));
    context.schedule(every, PunctuationType.WALL_CLOCK_TIME, now -> {
      if (sinks != null && sinks.due()) context.commit();
    });
  }

  @Override
  public void process(Record<byte[], byte[]> record) {
    RecordMetadata meta = context.recordMetadata().orElseThrow();
    Position position;
    try {
      position = parser.parse(record.value(), meta.topic(), meta.partition(), meta.offset(), record.timestamp(),
          System.currentTimeMillis());
    } catch (InvalidPositionException e) {
      record.headers().add("fleet-error", String.valueOf(e.getMessage()).getBytes(StandardCharsets.UTF_8));
      context.forward(record);
      return;
    }
    if (sinks == null) sinks = ThreadSinks.current(config);
    if (sinks.add(position)) context.commit();
  }
}
