import { describe, expect, it } from 'vitest';
import { ShutdownError } from '../../src/app/scope.js';
import { formatFatal } from '../../src/cli/context.js';
import { ConfigError, KafkaUnavailableError, ServiceError } from '../../src/errors.js';

describe('formatFatal', () => {
  it('a configuration mistake is one line naming the variable, exit 2, no stack', () => {
    const { text, exitCode } = formatFatal(new ConfigError('PORT', 'must be 0..65535'));
    expect(text).toBe('fleet: configuration error: PORT: must be 0..65535\n');
    expect(exitCode).toBe(2);
  });

  it('an unavailable service is one line without a stack', () => {
    for (const err of [
      new ServiceError('java not found: install a JDK 17+'),
      new KafkaUnavailableError('no broker'),
    ]) {
      const { text, exitCode } = formatFatal(err);
      expect(text).toBe(`fleet: ${err.message}\n`);
      expect(text).not.toMatch(/\n\s+at /);
      expect(exitCode).toBe(1);
    }
  });

  it('a bug shows its stack, also when it made a shutdown fail', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'close')");
    expect(formatFatal(bug).text).toMatch(/^fleet: unexpected error: TypeError: Cannot read[^\n]*\n\s+at /);
    const shutdown = formatFatal(new ShutdownError('warehouse', bug, 1));
    expect(shutdown.text).toMatch(
      /^fleet: shutdown failed: warehouse: Cannot read[^\n]*\nTypeError[^\n]*\n\s+at /,
    );
    expect(shutdown.exitCode).toBe(1);
    // A shutdown failing on a service (a FleetError) is a plain line again.
    expect(formatFatal(new ShutdownError('publisher', new KafkaUnavailableError('no broker'), 1)).text).toBe(
      'fleet: shutdown failed: publisher: no broker\n',
    );
  });
});
