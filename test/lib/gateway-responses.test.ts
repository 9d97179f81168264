/**
 * API Gateway's own errors in the source APIs' shape: each gateway response of the synthesized
 * query stack carries the AWS error name and a JSON `message`, and the official CodeCatalyst SDK,
 * given each response as API Gateway renders it, raises that typed exception.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AccessDeniedException,
  CodeCatalystClient,
  ListEventLogsCommand,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-codecatalyst';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY_ERROR_BODY, GATEWAY_ERRORS } from '../../lib/constructs/gateway-responses';
import { buildApp } from './helpers';

const SPACES = { codecatalyst: { spaces: ['my-space'] } };

/** API Gateway's default status of each response type replaced. */
const DEFAULT_STATUS: Record<string, number> = {
  ACCESS_DENIED: 403,
  UNAUTHORIZED: 401,
  MISSING_AUTHENTICATION_TOKEN: 403,
  THROTTLED: 429,
  REQUEST_TOO_LARGE: 413,
  RESOURCE_NOT_FOUND: 404,
  DEFAULT_4XX: 400,
  DEFAULT_5XX: 502,
};

interface GatewayResponseProps {
  ResponseType: string;
  ResponseParameters: Record<string, string>;
  ResponseTemplates: Record<string, string>;
  StatusCode?: string;
}

function gatewayResponses(): GatewayResponseProps[] {
  const resources = buildApp(SPACES).queryTemplate.findResources('AWS::ApiGateway::GatewayResponse');
  return Object.values(resources).map((r) => (r as { Properties: GatewayResponseProps }).Properties);
}

/** A response as API Gateway renders it: the mapped headers (literals unquoted) and the template. */
function rendered(response: GatewayResponseProps, message: string) {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(response.ResponseParameters)) {
    const name = key.replace(/^gatewayresponse\.header\./, '');
    headers[name] = value.replace(/^'(.*)'$/, '$1');
  }
  const body = response.ResponseTemplates['application/json']!.replace(
    '$context.error.messageString',
    JSON.stringify(message),
  );
  return { status: Number(response.StatusCode ?? DEFAULT_STATUS[response.ResponseType]), headers, body };
}

describe('gateway responses of the query API', () => {
  it('replace each of API Gateway’s own error answers with the AWS error name and a JSON message', () => {
    const responses = gatewayResponses();
    expect(responses.map((r) => r.ResponseType).sort()).toEqual(
      GATEWAY_ERRORS.map((e) => e.type.responseType).sort(),
    );
    for (const error of GATEWAY_ERRORS) {
      const response = responses.find((r) => r.ResponseType === error.type.responseType)!;
      expect(response.ResponseParameters).toEqual({
        'gatewayresponse.header.x-amzn-ErrorType': `'${error.errorType}'`,
        'gatewayresponse.header.Content-Type': "'application/json'",
      });
      expect(response.ResponseTemplates).toEqual({ 'application/json': GATEWAY_ERROR_BODY });
      // The body is JSON once API Gateway puts its quoted message in.
      expect(JSON.parse(rendered(response, 'a "quoted" message\\n').body)).toEqual({
        message: 'a "quoted" message\\n',
      });
    }
  });

  describe('as the official CodeCatalyst SDK sees them', () => {
    let server: Server;
    let url: string;
    let next: ReturnType<typeof rendered>;
    beforeAll(async () => {
      server = createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          res.writeHead(next.status, next.headers);
          res.end(next.body);
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    const typed: Record<string, unknown> = {
      AccessDeniedException,
      ThrottlingException,
      ValidationException,
    };

    for (const error of GATEWAY_ERRORS) {
      it(`raises ${error.errorType} for ${error.type.responseType}`, async () => {
        const response = gatewayResponses().find((r) => r.ResponseType === error.type.responseType)!;
        const message = `${error.type.responseType}: as API Gateway says it`;
        next = rendered(response, message);
        // One attempt: the SDK would retry a throttled or 5xx answer.
        const client = new CodeCatalystClient({
          endpoint: url,
          region: 'us-east-1',
          token: { token: 't' },
          maxAttempts: 1,
        });
        const call = client.send(
          new ListEventLogsCommand({
            spaceName: 'my-space',
            startTime: new Date('2026-01-01T00:00:00Z'),
            endTime: new Date('2026-01-02T00:00:00Z'),
          }),
        );
        const err = (await call.catch((e: unknown) => e)) as Error & {
          $metadata: { httpStatusCode: number };
        };
        expect(err.name).toBe(error.errorType);
        expect(err.message).toBe(message);
        expect(err.$metadata.httpStatusCode).toBe(next.status);
        const type = typed[error.errorType] as (new (...args: never[]) => Error) | undefined;
        if (type) expect(err).toBeInstanceOf(type);
        client.destroy();
      });
    }
  });
});
