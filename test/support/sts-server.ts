/**
 * A local stand-in of STS's AssumeRole (Query API, `Action=AssumeRole&Version=2011-06-15`): it
 * answers with temporary credentials (s3rver's key pair by default, with a fresh session token) and records every
 * request's RoleArn, ExternalId and RoleSessionName, refusing a request without a SigV4
 * Authorization header, with another role or external id (403 AccessDenied), or while `down` (503).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StsRequestRecord {
  roleArn?: string;
  externalId?: string;
  sessionName?: string;
  signed: boolean;
}

export interface StsTestServer {
  readonly url: string;
  readonly requests: readonly StsRequestRecord[];
  /** While true, every request gets a 503 ServiceUnavailable. */
  down: boolean;
  /** Lifetime of the credentials handed out (seconds). Default 3600. */
  durationSeconds: number;
  close(): Promise<void>;
}

export interface StsServerOptions {
  /** The one role that may be assumed, and the external id it requires. */
  roleArn: string;
  externalId: string;
  /**
   * The key pair handed out (with a fresh session token each time). Default s3rver's
   * `S3RVER`/`S3RVER`, which is the only key s3rver accepts.
   */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export async function startStsServer(options: StsServerOptions): Promise<StsTestServer> {
  const keys = options.credentials ?? { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  const requests: StsRequestRecord[] = [];
  const state = { down: false, durationSeconds: 3600 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const record: StsRequestRecord = {
        ...(params.get('RoleArn') ? { roleArn: params.get('RoleArn')! } : {}),
        ...(params.get('ExternalId') ? { externalId: params.get('ExternalId')! } : {}),
        ...(params.get('RoleSessionName') ? { sessionName: params.get('RoleSessionName')! } : {}),
        signed: /^AWS4-HMAC-SHA256 Credential=.+\/sts\/aws4_request/.test(req.headers.authorization ?? ''),
      };
      requests.push(record);
      const error = (status: number, code: string, message: string): void => {
        res.writeHead(status, { 'content-type': 'text/xml' });
        res.end(
          `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${randomBytes(8).toString('hex')}</RequestId></ErrorResponse>`,
        );
      };
      if (state.down) return error(503, 'ServiceUnavailable', 'stand-in is down');
      if (
        req.method !== 'POST' ||
        params.get('Action') !== 'AssumeRole' ||
        params.get('Version') !== '2011-06-15'
      )
        return error(400, 'InvalidAction', 'only AssumeRole');
      if (!record.signed) return error(403, 'MissingAuthenticationToken', 'no SigV4 signature');
      if (
        record.roleArn !== options.roleArn ||
        record.externalId !== options.externalId ||
        !record.sessionName
      )
        return error(403, 'AccessDenied', 'not authorized to perform sts:AssumeRole');
      const expiration = new Date(Date.now() + state.durationSeconds * 1000).toISOString();
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(
        `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>${keys.accessKeyId}</AccessKeyId><SecretAccessKey>${keys.secretAccessKey}</SecretAccessKey><SessionToken>${randomBytes(32).toString('base64')}</SessionToken><Expiration>${expiration}</Expiration></Credentials><AssumedRoleUser><Arn>${options.roleArn}</Arn><AssumedRoleId>AROA:${record.sessionName}</AssumedRoleId></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>${randomBytes(8).toString('hex')}</RequestId></ResponseMetadata></AssumeRoleResponse>`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get down() {
      return state.down;
    },
    set down(value: boolean) {
      state.down = value;
    },
    get durationSeconds() {
      return state.durationSeconds;
    },
    set durationSeconds(value: number) {
      state.durationSeconds = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
