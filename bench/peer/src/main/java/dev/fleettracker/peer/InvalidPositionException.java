package dev.fleettracker.peer;

/** A record value that is not a valid position: it goes to the dead-letter topic, never to the sinks. */
final class InvalidPositionException extends Exception {
  InvalidPositionException(String message) {
    super(message, null, false, false);
  }
}
