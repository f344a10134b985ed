// Serves the built web page (web/, built by tools/web/build.ts into dist/web): index.html for the page's own paths
// (it routes in the browser), and its hashed assets, cached for a year since a changed file gets a new name. The
// files are read once at start (a few hundred KB) with their gzip and brotli forms made by the build, and
// served from memory. Nothing here is an API route: the page uses the public API like any other client.

import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

/** Where tools/web/build.ts puts the page: dist/web under the directory npm runs scripts in (the package's). */
export const DEFAULT_WEB_ROOT = path.resolve('dist', 'web');

/** Paths the page handles itself (web/src/router.ts): each answers index.html. */
export const PAGE_PATHS = [
  '/',
  '/markets',
  '/login',
  '/signup',
  '/wallet',
  '/orders',
  '/account',
  '/trade/:symbol',
] as const;
/** The built files are few and small; anything larger is not ours. */
const ASSET_BYTES_MAX = 4 * 1024 * 1024;

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
};

interface Asset {
  readonly type: string;
  readonly raw: Buffer;
  readonly gzip: Buffer | null;
  readonly brotli: Buffer | null;
}

async function optional(file: string): Promise<Buffer | null> {
  try {
    return await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

async function loadAssets(dir: string): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  for (const name of await readdir(dir)) {
    const type = TYPES[path.extname(name)];
    if (type === undefined) continue;
    const raw = await readFile(path.join(dir, name));
    if (raw.length > ASSET_BYTES_MAX)
      throw new Error(`web asset ${name} is ${raw.length} bytes, over ${ASSET_BYTES_MAX}`);
    assets.set(name, {
      type,
      raw,
      gzip: await optional(path.join(dir, `${name}.gz`)),
      brotli: await optional(path.join(dir, `${name}.br`)),
    });
  }
  return assets;
}

function send(request: FastifyRequest, reply: FastifyReply, asset: Asset, cacheControl: string): FastifyReply {
  const accepts = String(request.headers['accept-encoding'] ?? '');
  reply.header('content-type', asset.type).header('cache-control', cacheControl).header('vary', 'accept-encoding');
  if (asset.brotli !== null && /\bbr\b/.test(accepts)) return reply.header('content-encoding', 'br').send(asset.brotli);
  if (asset.gzip !== null && /\bgzip\b/.test(accepts)) return reply.header('content-encoding', 'gzip').send(asset.gzip);
  return reply.send(asset.raw);
}

export interface WebPageOptions {
  /** The built page: index.html and assets/. */
  readonly root: string;
}

/** Whether `root` holds a built page (index.html). */
export async function webPageBuilt(root: string): Promise<boolean> {
  return (await optional(path.join(root, 'index.html'))) !== null;
}

export const webPagePlugin: FastifyPluginAsync<WebPageOptions> = async (app, { root }) => {
  const raw = await readFile(path.join(root, 'index.html'));
  const index: Asset = {
    type: 'text/html; charset=utf-8',
    raw,
    gzip: await optional(path.join(root, 'index.html.gz')),
    brotli: await optional(path.join(root, 'index.html.br')),
  };
  const assets = await loadAssets(path.join(root, 'assets'));
  const hide = { hide: true } as const;
  for (const url of PAGE_PATHS) {
    // index.html is small and names the current assets: revalidated every time, so a new build shows at once.
    app.get(url, { schema: hide, config: { auth: 'public' } }, async (request, reply) =>
      send(request, reply, index, 'no-cache'),
    );
  }
  app.get('/assets/:file', { schema: hide, config: { auth: 'public' } }, async (request, reply) => {
    const asset = assets.get((request.params as { file: string }).file);
    if (asset === undefined) return reply.code(404).send({ code: 'EX_NOT_FOUND', message: 'No such file.' });
    return send(request, reply, asset, 'public, max-age=31536000, immutable');
  });
};
