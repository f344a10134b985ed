// Security headers on every answer, and the Content-Security-Policy the web page is built for: scripts, styles,
// fonts and connections from this origin only (no inline script or style element, no eval, no third-party origin),
// images from here or data: URLs (Swagger UI's icons), no plugins, no framing, no <base>. Without TLS the browser is
// not told to upgrade requests (the embedded exchange serves plain HTTP on loopback).
//
// The headers are the ones helmet sets for these options (test/gateway/security-headers.test.ts compares them), as
// one fixed table built once: @fastify/helmet rebuilt helmet's middleware, parsing the CSP directives again, on
// every request (~4% of the gateway's CPU in bench:gateway's profile).

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

/** `defaultSrc: ["'self'"]` -> `default-src 'self'`; a null directive is left out. */
export function cspHeader(directives: Readonly<Record<string, readonly string[] | null>>): string {
  return Object.entries(directives)
    .filter((entry): entry is [string, readonly string[]] => entry[1] !== null)
    .map(([name, values]) => [name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), ...values].join(' '))
    .join(';');
}

/** Every answer's security headers (names in lower case, as Fastify keeps them). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': cspHeader(CONTENT_SECURITY_POLICY),
  // The page loads nothing cross-origin; its own resources are same-origin.
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
});

export function installSecurityHeaders(app: FastifyInstance): void {
  // Callback style: no promise per request.
  app.addHook('onRequest', (_request, reply, done) => {
    void reply.headers(SECURITY_HEADERS);
    done();
  });
}
