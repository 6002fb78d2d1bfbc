import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A 1×1 magenta PNG: Leaflet stretches it over the whole 256 px tile. */
const MAGENTA = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z/AfAAQAAf8iCjrwAAAAAElFTkSuQmCC',
  'base64',
);

export interface TileServer {
  /** The MAP_TILE_URL to configure: `http://127.0.0.1:<port>/tiles/{z}/{x}/{y}.png`. */
  template: string;
  /** Every tile asked for, in order. */
  requested: { z: number; x: number; y: number }[];
  close(): Promise<void>;
}

/** A local slippy-map tile server: a magenta tile where `serves(z, x, y)`, else 404. */
export async function startTileServer(
  serves: (z: number, x: number, y: number) => boolean,
): Promise<TileServer> {
  const requested: TileServer['requested'] = [];
  const server = http.createServer((req, res) => {
    const match = /^\/tiles\/(\d+)\/(\d+)\/(\d+)\.png$/.exec(req.url ?? '');
    if (!match) return void res.writeHead(400).end();
    const [z, x, y] = match.slice(1).map(Number) as [number, number, number];
    requested.push({ z, x, y });
    if (serves(z, x, y)) res.writeHead(200, { 'content-type': 'image/png' }).end(MAGENTA);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    template: `http://127.0.0.1:${(server.address() as AddressInfo).port}/tiles/{z}/{x}/{y}.png`,
    requested,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
