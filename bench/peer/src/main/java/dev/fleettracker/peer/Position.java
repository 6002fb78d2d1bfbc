package dev.fleettracker.peer;

/**
 * One validated position and where it came from. Numbers keep the text they had in the record
 * value as well: the publisher writes them with JSON.stringify, so that text is exactly what our
 * processor's `String(n)` produces for the Redis state, and the peer need not re-format doubles.
 */
record Position(
    String vehicleId,
    long ts,
    double lat,
    String latText,
    double lon,
    String lonText,
    Double speed,
    String speedText,
    Double heading,
    String headingText,
    Double altitude,
    String altitudeText,
    Double accuracy,
    String accuracyText,
    Double battery,
    String batteryText,
    /** The attributes object as compact JSON (a slice of the value), or null. */
    String attributesJson,
    String topic,
    int partition,
    long offset,
    long kafkaTs,
    /** Encoded size of the record value (batch byte bounds). */
    int bytes) {}
