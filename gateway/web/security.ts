// Security headers on every answer (@fastify/helmet), and the Content-Security-Policy the web page is built for:
// scripts, styles, fonts and connections from this origin only (no inline script or style element, no eval, no
// third-party origin), images from here or data: URLs (Swagger UI's icons), no plugins, no framing, no <base>.
// Without TLS the browser is not told to upgrade requests (the embedded exchange serves plain HTTP on loopback).

import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

export const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'"],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  frameAncestors: ["'none'"],
  formAction: ["'self'"],
  upgradeInsecureRequests: null,
} as const;

export async function installSecurityHeaders(app: FastifyInstance): Promise<void> {
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: { ...CONTENT_SECURITY_POLICY } },
    // The page loads nothing cross-origin; its own resources are same-origin.
    crossOriginEmbedderPolicy: true,
    referrerPolicy: { policy: 'no-referrer' },
  });
}
