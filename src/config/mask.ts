/** Config fields that hold secrets: passwords, private keys, API keys, the metrics key. */
const SECRET_FIELD = /password|privateKey$|passphrase|apiKeys?$|^key$/i;

/** A URL's password (REDIS_URL carries REDIS_PASSWORD) replaced by `***`; other text as is. */
function maskUrlPassword(text: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/\s]*@/i.test(text)) return text;
  try {
    const url = new URL(text);
    if (url.password === '') return text;
    url.password = '***';
    return url.toString();
  } catch {
    return text;
  }
}

/** A copy of the config fit to print (`fleet config`): every secret shown as `***`. */
export function maskSecrets(config: unknown): unknown {
  return JSON.parse(
    JSON.stringify(config, (key, value: unknown) => {
      if (SECRET_FIELD.test(key) && value) return '***';
      return typeof value === 'string' ? maskUrlPassword(value) : value;
    }),
  ) as unknown;
}
