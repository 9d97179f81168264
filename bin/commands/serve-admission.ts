/**
 * Which requests `serve` admits before reading them, so that a web page cannot reach the local API
 * through the user's browser (DNS rebinding, cross-site requests, HTML form posts), and the headers
 * every answer carries. The deployed API has IAM authentication instead; these checks are local.
 */
import type { IncomingMessage } from 'node:http';
import { LIST_EVENT_LOGS } from '../../lambdas/query/api';

/** The names `serve` answers to besides `--host`: the loopback names a local client uses. */
const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];
/**
 * On every answer: no framing, no MIME sniffing, no reading by other origins' pages (even without
 * CORS a `<script src>` or `<img src>` could otherwise load it), no caching of audit events.
 */
export const SAFETY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': "frame-ancestors 'none'",
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
} as const;

/** Who a request must be addressed to: the Host names and browser origins of this server. */
export interface Audience {
  /** Lower-case host names, IPv6 literals in brackets. */
  names: ReadonlySet<string>;
  origins: ReadonlySet<string>;
  port: number;
}

export function audienceOf(host: string, port: number): Audience {
  const own = host.toLowerCase();
  const names = new Set([...LOOPBACK_NAMES, own.includes(':') && !own.startsWith('[') ? `[${own}]` : own]);
  const origins = new Set<string>();
  for (const name of names) {
    origins.add(`http://${name}:${port}`);
    // A browser leaves the default port out of an origin.
    if (port === 80) origins.add(`http://${name}`);
  }
  return { names, origins, port };
}

/** A request `serve` refuses before reading it: why, as the API's error shape. */
export interface Refusal {
  status: number;
  type: string;
  message: string;
}

/**
 * The checks that keep a web page from reaching the local API through the user's browser:
 * - Host: a page whose name was rebound to 127.0.0.1 (DNS rebinding) is same-origin to the browser,
 *   but its requests still carry the page's own name in Host. Refused with 403
 *   AccessDeniedException rather than 421 Misdirected Request: an error name the SDKs and the API
 *   references (https://docs.aws.amazon.com/codecatalyst/latest/APIReference/CommonErrors.html,
 *   https://docs.aws.amazon.com/resilience-hub/v2/APIReference/API_ListSystemEvents.html) already know and
 *   do not retry, where a 421 invites a retry that would be refused again.
 * - Origin: a browser sends it on cross-origin requests (and on every POST); anything but this
 *   server's own origin is refused, and no CORS header is ever sent.
 * - Sec-Fetch-Site: a browser's `no-cors` GET (`<script src>`) carries no Origin but says it is
 *   cross-site or same-site (another port of localhost); only same-origin and user-typed pass, and
 *   a top-level navigation to the console page (a link pasted into a ticket).
 * - Content-Type: a POST that reads a body must say `application/json` (what the AWS SDKs send for
 *   this restJson1 API), so an HTML form (`text/plain`, urlencoded, multipart) cannot post one.
 *   415 UnsupportedMediaTypeException, as Smithy servers answer a restJson1 body of another type.
 */
export function refusal(req: IncomingMessage, audience: Audience): Refusal | undefined {
  const hostHeader = req.headers.host;
  if (!hostAllowed(hostHeader, audience)) {
    return {
      status: 403,
      type: 'AccessDeniedException',
      message:
        `host: must be one of ${[...audience.names].join(', ')}, optionally with :${audience.port} ` +
        `(got ${clip(hostHeader ?? 'none')}); serve answers only requests addressed to it by these names`,
    };
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !audience.origins.has(origin.toLowerCase())) {
    return {
      status: 403,
      type: 'AccessDeniedException',
      message: `origin: cross-origin requests are refused (got ${clip(origin)}); serve answers only its own origin, as ${[...audience.origins][0]}`,
    };
  }
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none' && !isPageNavigation(req)) {
    return {
      status: 403,
      type: 'AccessDeniedException',
      message: `sec-fetch-site: requests from other sites' pages are refused (got ${clip(site)})`,
    };
  }
  const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
  if (req.method === 'POST' && LIST_EVENT_LOGS.test(path)) {
    const type = req.headers['content-type'];
    const media = (type ?? '').split(';', 1)[0]!.trim().toLowerCase();
    if (media !== 'application/json') {
      return {
        status: 415,
        type: 'UnsupportedMediaTypeException',
        message: `content-type: must be application/json (got ${type === undefined ? 'none' : clip(type)})`,
      };
    }
  }
  return undefined;
}

/**
 * A person opening the console from a link elsewhere (a ticket, a chat): a top-level navigation to
 * the page itself, which reads nothing from the archive (its own requests are same-origin) and
 * cannot be framed.
 */
function isPageNavigation(req: IncomingMessage): boolean {
  const path = (req.url ?? '/').split('?', 1)[0];
  return (
    req.method === 'GET' &&
    (path === '/' || path === '') &&
    req.headers['sec-fetch-mode'] === 'navigate' &&
    req.headers['sec-fetch-dest'] === 'document'
  );
}

/** True when a Host header names this server: one of its names, and its port if a port is given. */
function hostAllowed(header: string | undefined, audience: Audience): boolean {
  if (header === undefined) return false;
  const value = header.toLowerCase();
  const colon = value.startsWith('[') ? value.indexOf(':', value.indexOf(']')) : value.indexOf(':');
  const name = colon < 0 ? value : value.slice(0, colon);
  if (colon >= 0 && value.slice(colon + 1) !== String(audience.port)) return false;
  return audience.names.has(name);
}

function clip(text: string): string {
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
}
