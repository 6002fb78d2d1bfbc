package dev.fleettracker.peer;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Decodes and validates a record value with the rules of src/domain/position.ts (strict object,
 * the same ranges, id pattern, attribute limits and event-time bounds), streaming with Jackson's
 * parser: no tree, no reflection, one pass.
 */
final class PositionParser {
  static final int MAX_RECORD_BYTES = 16 * 1024;
  static final long MAX_AGE_MS = 7L * 24 * 3600_000;
  static final long MAX_FUTURE_MS = 5 * 60_000;
  private static final int MAX_ATTRIBUTES = 32;
  private static final int MAX_ATTRIBUTES_BYTES = 4096;

  private final JsonFactory json = new JsonFactory();

  Position parse(byte[] value, String topic, int partition, long offset, long kafkaTs, long now)
      throws InvalidPositionException {
    if (value == null || value.length == 0)
      throw new InvalidPositionException("empty record value (tombstone or missing payload)");
    if (value.length > MAX_RECORD_BYTES)
      throw new InvalidPositionException("record value of " + value.length + " bytes exceeds " + MAX_RECORD_BYTES);
    try (JsonParser p = json.createParser(value)) {
      if (p.nextToken() != JsonToken.START_OBJECT) throw new InvalidPositionException("value is not a JSON object");
      var f = new Fields();
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String key = p.currentName();
        JsonToken t = p.nextToken();
        switch (key) {
          case "vehicleId" -> f.vehicleId = vehicleId(p, t);
          case "ts" -> f.ts = timestamp(p, t);
          case "lat" -> f.lat = number(p, t, key, -90, 90);
          case "lon" -> f.lon = number(p, t, key, -180, 180);
          case "speed" -> f.speed = number(p, t, key, 0, 1500);
          case "heading" -> f.heading = number(p, t, key, 0, 360);
          case "altitude" -> f.altitude = number(p, t, key, -1000, 50_000);
          case "accuracy" -> f.accuracy = number(p, t, key, 0, 1_000_000);
          case "battery" -> f.battery = number(p, t, key, 0, 100);
          case "attributes" -> f.attributes = attributes(p, t, value);
          default -> throw new InvalidPositionException("unknown field '" + key + "'");
        }
      }
      if (p.currentToken() != JsonToken.END_OBJECT || p.nextToken() != null)
        throw new InvalidPositionException("value is not a single JSON object");
      if (f.vehicleId == null || f.ts == null || f.lat == null || f.lon == null)
        throw new InvalidPositionException("vehicleId, ts, lat and lon are required");
      if (f.ts < now - MAX_AGE_MS) throw new InvalidPositionException("ts: more than " + MAX_AGE_MS + " ms in the past");
      if (f.ts > now + MAX_FUTURE_MS) throw new InvalidPositionException("ts: more than " + MAX_FUTURE_MS + " ms in the future");
      return new Position(f.vehicleId, f.ts, f.lat.value, f.lat.text, f.lon.value, f.lon.text,
          value(f.speed), text(f.speed), value(f.heading), text(f.heading), value(f.altitude), text(f.altitude),
          value(f.accuracy), text(f.accuracy), value(f.battery), text(f.battery), f.attributes,
          topic, partition, offset, kafkaTs, value.length);
    } catch (IOException e) {
      throw new InvalidPositionException("value is not valid JSON: " + e.getMessage());
    }
  }

  private static final class Fields {
    String vehicleId;
    Long ts;
    Num lat, lon, speed, heading, altitude, accuracy, battery;
    String attributes;
  }

  private record Num(double value, String text) {}

  private static Double value(Num n) {
    return n == null ? null : n.value;
  }

  private static String text(Num n) {
    return n == null ? null : n.text;
  }

  private static String vehicleId(JsonParser p, JsonToken t) throws IOException, InvalidPositionException {
    if (t != JsonToken.VALUE_STRING) throw new InvalidPositionException("vehicleId: must be a string");
    String id = p.getText();
    if (!validVehicleId(id)) throw new InvalidPositionException("vehicleId: 1-128 of [A-Za-z0-9._:@-]");
    return id;
  }

  /** VEHICLE_ID_PATTERN and MAX_VEHICLE_ID_LENGTH: ids are Redis hash fields and need no escaping in JSON. */
  static boolean validVehicleId(String id) {
    if (id.isEmpty() || id.length() > 128) return false;
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '.' || c == '_' || c == ':' || c == '@' || c == '-';
      if (!ok) return false;
    }
    return true;
  }

  private static long timestamp(JsonParser p, JsonToken t) throws IOException, InvalidPositionException {
    if (!t.isNumeric()) throw new InvalidPositionException("ts: must be a number");
    double d = p.getDoubleValue();
    if (d != Math.rint(d) || d < 0 || d > 8.64e15) throw new InvalidPositionException("ts: integer epoch ms in range");
    return (long) d;
  }

  private static Num number(JsonParser p, JsonToken t, String key, double min, double max)
      throws IOException, InvalidPositionException {
    if (!t.isNumeric()) throw new InvalidPositionException(key + ": must be a number");
    double d = p.getDoubleValue();
    if (!(d >= min && d <= max)) throw new InvalidPositionException(key + ": must be in [" + min + ", " + max + "]");
    return new Num(d, p.getText());
  }

  private static String attributes(JsonParser p, JsonToken t, byte[] value) throws IOException, InvalidPositionException {
    if (t != JsonToken.START_OBJECT) throw new InvalidPositionException("attributes: must be an object");
    int start = (int) p.currentTokenLocation().getByteOffset();
    int count = 0;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String key = p.currentName();
      if (++count > MAX_ATTRIBUTES) throw new InvalidPositionException("attributes: at most " + MAX_ATTRIBUTES);
      if (key.isEmpty() || key.length() > 64 || key.equals("__proto__"))
        throw new InvalidPositionException("attributes: keys of 1-64 characters");
      JsonToken v = p.nextToken();
      boolean ok = switch (v) {
        case VALUE_STRING -> p.getTextLength() <= 1024;
        case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT, VALUE_TRUE, VALUE_FALSE, VALUE_NULL -> true;
        default -> false;
      };
      if (!ok) throw new InvalidPositionException("attributes." + key + ": string (<= 1024), number, boolean or null");
    }
    int end = (int) p.currentTokenLocation().getByteOffset() + 1;
    String slice = new String(value, start, end - start, StandardCharsets.UTF_8);
    if (slice.length() > MAX_ATTRIBUTES_BYTES)
      throw new InvalidPositionException("attributes: at most " + MAX_ATTRIBUTES_BYTES + " bytes");
    return slice;
  }
}
