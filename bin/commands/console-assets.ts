/**
 * The web console's files, as `serve` sends them: the page, its script and its stylesheet.
 *
 * The front end (console/src/) is bundled with the project's esbuild when `serve` starts, in memory:
 * `npm ci && npm start` needs no build step, nothing built is committed (so nothing can drift from
 * its sources), and bundling takes a fraction of a second. Preact and uPlot come from node_modules;
 * nothing is fetched at run time and the page loads nothing from another origin.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CONSOLE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../console');
const ENTRY = path.join(CONSOLE_DIR, 'src', 'main.tsx');

/** One file of the console, ready to send. */
export interface ConsoleAsset {
  body: Buffer;
  contentType: string;
  /** Strong validator: the SHA-256 of the body. */
  etag: string;
}

/**
 * The console's policy: scripts, styles, data and images from this server only (no inline script,
 * so text from the archive that reached the page as markup still could not run), no framing, no
 * plug-ins, no form posts elsewhere.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1f4e79"/><path d="M4 11h2V7H4zm3 0h2V4H7zm3 0h2V8h-2z" fill="#fff"/></svg>`;

// Where the page carries the server's clock (see pageAt).
const NOW_PLACEHOLDER = '0000-00-00T00:00:00.000Z';

let built: Promise<Map<string, ConsoleAsset>> | undefined;

/** Bundles the console once per process (later calls share the result; a failed build is retried). */
export function consoleAssets(): Promise<Map<string, ConsoleAsset>> {
  built ??= bundle();
  built.catch(() => {
    built = undefined;
  });
  return built;
}

function asset(body: Buffer | string, contentType: string): ConsoleAsset {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return { body: bytes, contentType, etag: `"${createHash('sha256').update(bytes).digest('base64url')}"` };
}

async function bundle(): Promise<Map<string, ConsoleAsset>> {
  // Loaded here, not at the top: the CLI's other commands never pay for it.
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    minify: true,
    format: 'esm',
    target: ['chrome120', 'firefox121', 'safari17'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outdir: '/console',
    entryNames: 'main',
    legalComments: 'none',
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const assets = new Map<string, ConsoleAsset>();
  for (const file of result.outputFiles) {
    const name = path.basename(file.path);
    const type = name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8';
    assets.set(`/assets/${name}`, asset(Buffer.from(file.contents), type));
  }
  assets.set('/assets/favicon.svg', asset(FAVICON, 'image/svg+xml'));
  const version = (name: string): string => assets.get(name)?.etag.slice(1, 13) ?? '0';
  const css = assets.has('/assets/main.css')
    ? `<link rel="stylesheet" href="/assets/main.css?v=${version('/assets/main.css')}">`
    : '';
  const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>eventlog-archive console</title>
<meta name="eventlog-archive-now" content="${NOW_PLACEHOLDER}">
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
${css}
<script type="module" src="/assets/main.js?v=${version('/assets/main.js')}"></script>
</head>
<body>
<div id="app"><noscript>The eventlog-archive console needs JavaScript. The API answers without it: GET /health lists the routes.</noscript></div>
</body>
</html>
`;
  assets.set('/', asset(page, 'text/html; charset=utf-8'));
  return assets;
}

/**
 * The page as sent at `now`: it carries the server's clock, so that "the last 7 days" end at the
 * server's now (a pinned clock pins the page too) and the first queries need not wait for another
 * request to learn it.
 */
export function pageAt(page: ConsoleAsset, now: number): ConsoleAsset {
  return asset(
    page.body.toString('utf8').replace(NOW_PLACEHOLDER, new Date(now).toISOString()),
    page.contentType,
  );
}

/** True when a request for `/` wants the console page rather than the API's JSON description. */
export function wantsConsolePage(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  // A browser's navigation lists text/html first; an API client asks for JSON or for anything.
  return /(^|,)\s*text\/html\s*(;|,|$)/i.test(accept);
}
