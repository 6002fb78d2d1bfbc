import { request as httpRequest } from 'node:http';
import { hostileCorpus } from './hostile-corpus.js';
import { fuzzRecords } from './fuzz.js';

/** One hostile HTTP request. Paths are sent byte for byte (no client-side normalisation). */
export interface HostileRequest {
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
}

export interface HttpAnswer {
  request: HostileRequest;
  /** 0 = no HTTP answer (connection reset, timeout). */
  status: number;
  error?: string;
}

/** Sends one request as raw as node:http allows; never throws. */
export function send(port: number, req: HostileRequest, timeoutMs = 10_000): Promise<HttpAnswer> {
  return new Promise((resolve) => {
    // A server may answer an oversized request (413) and close the connection before the body is
    // sent (RFC 9110 §15.5.14); the client then fails its write (EPIPE) after the answer arrived.
    // That answer counts; only a request that got none is "no answer".
    let answered: number | undefined;
    const r = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: req.method,
        path: req.path,
        headers: {
          ...(req.body ? { 'content-length': String(req.body.length) } : {}),
          // Without it (agent: false sends `Connection: close`) a server that refuses a large body
          // early closes the socket under the client's write; with it, Node's server reads the
          // rest of the body away and the answer always arrives. The socket is closed at the end.
          ...(req.body && req.body.length > 64 * 1024 ? { connection: 'keep-alive' } : {}),
          ...req.headers,
        },
        timeout: timeoutMs,
        insecureHTTPParser: true,
        // A fresh connection per request: a refused one (431, 400) may close the socket it came on.
        agent: false,
      },
      (res) => {
        answered = res.statusCode;
        res.resume();
        res.on('end', () => {
          res.socket?.destroy();
          resolve({ request: req, status: res.statusCode ?? 0 });
        });
        res.on('error', (err) => resolve({ request: req, status: res.statusCode ?? 0, error: err.message }));
      },
    );
    r.on('timeout', () => r.destroy(new Error('timeout')));
    r.on('error', (err) =>
      // The answer may be parsed just after the write failed: give it a moment.
      setTimeout(() => resolve({ request: req, status: answered ?? 0, error: err.message }), 100),
    );
    if (req.body) r.write(req.body);
    r.end();
  });
}

const q = encodeURIComponent;

/** Garbage for the query API: bad ids, parameters, encodings, methods and sizes. */
export function apiRequests(): HostileRequest[] {
  const get = (name: string, path: string, headers?: Record<string, string>): HostileRequest => ({
    name,
    method: 'GET',
    path,
    ...(headers ? { headers } : {}),
  });
  const long = 'x'.repeat(5000);
  return [
    get('vehicle id with NUL', '/v1/vehicles/%00'),
    get('vehicle id of 200 characters', `/v1/vehicles/${'v'.repeat(200)}`),
    get('vehicle id with path traversal', `/v1/vehicles/${q('../../etc/passwd')}`),
    get('vehicle id with SQL', `/v1/vehicles/${q("x' OR 1=1--")}`),
    get('vehicle id with broken percent-encoding', '/v1/vehicles/%E0%A4%A'),
    get('vehicle id of emoji', `/v1/vehicles/${q('🚚')}`),
    get('negative limit', '/v1/vehicles?limit=-1'),
    get('limit as text', '/v1/vehicles?limit=abc'),
    get('limit 1e9', '/v1/vehicles?limit=1e9'),
    get('bbox of 3 numbers', '/v1/vehicles?bbox=1,2,3'),
    get('bbox of NaN', '/v1/vehicles?bbox=NaN,NaN,NaN,NaN'),
    get('bbox out of range', '/v1/vehicles?bbox=200,0,201,1'),
    get('cursor of 5000 characters', `/v1/vehicles?cursor=${long}`),
    get('cursor of garbage', `/v1/vehicles?cursor=${q('!!not-a-cursor!!')}`),
    get('max_age_s Infinity', '/v1/vehicles?max_age_s=Infinity'),
    get('unknown parameter', '/v1/vehicles?drop=table'),
    get('repeated parameter', '/v1/vehicles?limit=1&limit=2'),
    get('broken query encoding', '/v1/vehicles?bbox=%E0%A4%A'),
    get('nearby NaN latitude', '/v1/vehicles/nearby?lat=NaN&lon=0&radius_m=10'),
    get('nearby latitude 91', '/v1/vehicles/nearby?lat=91&lon=0&radius_m=10'),
    get('nearby Infinity longitude', '/v1/vehicles/nearby?lat=0&lon=Infinity&radius_m=10'),
    get('nearby negative radius', '/v1/vehicles/nearby?lat=0&lon=0&radius_m=-1'),
    get('nearby radius 1e12', '/v1/vehicles/nearby?lat=0&lon=0&radius_m=1e12'),
    get('nearby without parameters', '/v1/vehicles/nearby'),
    get('history from as text', '/v1/vehicles/veh-00001/history?from=yesterday'),
    get('history negative from', '/v1/vehicles/veh-00001/history?from=-1'),
    get('history to before from', '/v1/vehicles/veh-00001/history?from=2000000000000&to=1000000000000'),
    get('history from 1e20', '/v1/vehicles/veh-00001/history?from=1e20'),
    get('history limit 0', '/v1/vehicles/veh-00001/history?limit=0'),
    get('summary negative trip rule', '/v1/vehicles/veh-00001/summary?min_trip_m=-5'),
    get('summary absurd speed rule', '/v1/vehicles/veh-00001/summary?moving_kmh=1e9'),
    get('stream with bad vehicle id', `/v1/stream?vehicle=${q('bad id')}`),
    get('stream with bad bbox', '/v1/stream?bbox=a,b,c,d'),
    get('header of 20 KiB', '/v1/vehicles', { 'x-padding': 'p'.repeat(20 * 1024) }),
    get('unknown route', '/v1/../../etc/passwd'),
    {
      name: 'POST on a read-only route',
      method: 'POST',
      path: '/v1/vehicles',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from('{"vehicleId":"x"}'),
    },
    {
      name: 'POST of invalid JSON',
      method: 'POST',
      path: '/v1/vehicles',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from('{"vehicleId":'),
    },
    { name: 'DELETE a vehicle', method: 'DELETE', path: '/v1/vehicles/veh-00001' },
    {
      name: 'PUT binary garbage',
      method: 'PUT',
      path: '/v1/vehicles/veh-00001',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.from([0, 255, 1, 254]),
    },
  ];
}

/**
 * The Kafka corpus and fuzz values whose fault is in the value itself, as HTTP bodies. Left out:
 * arrays (the gateway takes an array of positions, so `[valid]` is not garbage there) and a BOM
 * before valid JSON (RFC 8259 lets a JSON parser ignore it, and fastify's does).
 */
export function bodiesFromCorpus(
  prefix: string,
  now: number,
  seed: number,
  fuzz: number,
): { name: string; body: Buffer }[] {
  return [...hostileCorpus(prefix, now), ...fuzzRecords({ seed, count: fuzz, prefix, now })]
    .filter((r) => r.expect === 'dead-letter' && r.fault === undefined && r.value !== null)
    .filter((r) => !isJsonArray(r.value!) && r.name !== 'UTF-8 BOM before JSON')
    .map((r) => ({ name: r.name, body: r.value! }));
}

function isJsonArray(value: Buffer): boolean {
  try {
    return Array.isArray(JSON.parse(value.toString()));
  } catch {
    return false;
  }
}

/**
 * Garbage for the ingest gateway: every corpus/fuzz body on `POST /v1/positions` and as Traccar
 * JSON on `POST /`, OsmAnd parameters that break the position, and wrong content types.
 */
export function gatewayRequests(prefix: string, now: number, seed: number, fuzz: number): HostileRequest[] {
  const json = { 'content-type': 'application/json' };
  const out: HostileRequest[] = [];
  for (const { name, body } of bodiesFromCorpus(prefix, now, seed, fuzz)) {
    out.push({ name: `native: ${name}`, method: 'POST', path: '/v1/positions', headers: json, body });
    out.push({ name: `traccar json: ${name}`, method: 'POST', path: '/', headers: json, body });
  }
  const ok = `id=${prefix}osm&lat=48.85&lon=2.35&timestamp=${Math.floor(now / 1000) - 60}`;
  const osmand: [string, string][] = [
    ['no parameters', ''],
    ['no id', 'lat=48.85&lon=2.35'],
    ['latitude as text', ok.replace('lat=48.85', 'lat=north')],
    ['latitude 91', ok.replace('lat=48.85', 'lat=91')],
    ['longitude NaN', ok.replace('lon=2.35', 'lon=NaN')],
    ['longitude Infinity', ok.replace('lon=2.35', 'lon=Infinity')],
    ['timestamp garbage', ok.replace(/timestamp=\d+/, 'timestamp=soon')],
    ['timestamp year 3000', ok.replace(/timestamp=\d+/, 'timestamp=32503680000')],
    ['timestamp 0', ok.replace(/timestamp=\d+/, 'timestamp=0')],
    ['id with space', ok.replace(`id=${prefix}osm`, 'id=truck%2042')],
    ['id of 500 characters', ok.replace(`id=${prefix}osm`, `id=${'i'.repeat(500)}`)],
    ['speed negative', `${ok}&speed=-3`],
    ['battery 250', `${ok}&batt=250`],
    ['40 unknown parameters', `${ok}&${Array.from({ length: 40 }, (_, i) => `p${i}=${i}`).join('&')}`],
    ['broken percent-encoding', ok.replace('lat=48.85', 'lat=%E0%A4%A')],
    ['query of 30 KiB', `${ok}&pad=${'p'.repeat(30 * 1024)}`],
  ];
  for (const [name, query] of osmand) {
    out.push({ name: `osmand GET: ${name}`, method: 'GET', path: `/?${query}` });
    out.push({
      name: `osmand form POST: ${name}`,
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: Buffer.from(query),
    });
  }
  out.push(
    {
      name: 'XML body',
      method: 'POST',
      path: '/v1/positions',
      headers: { 'content-type': 'application/xml' },
      body: Buffer.from('<position/>'),
    },
    { name: 'no content-type', method: 'POST', path: '/v1/positions', body: Buffer.from('{}') },
    { name: 'empty array', method: 'POST', path: '/v1/positions', headers: json, body: Buffer.from('[]') },
    {
      name: '1001 positions',
      method: 'POST',
      path: '/v1/positions',
      headers: json,
      body: Buffer.from(JSON.stringify(Array.from({ length: 1001 }, () => ({})))),
    },
    { name: 'GET on the ingest route', method: 'GET', path: '/v1/positions' },
    { name: 'DELETE on /', method: 'DELETE', path: '/' },
  );
  return out;
}
