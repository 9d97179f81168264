/**
 * A local Secrets Manager that answers `GetSecretValue` (awsJson1_1) for one secret, and refuses
 * requests that are not SigV4-signed for the `secretsmanager` service.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SecretsManagerStub {
  url: string;
  requests: number;
  close(): Promise<void>;
}

const SIGV4 =
  /^AWS4-HMAC-SHA256 Credential=[A-Z0-9]+\/\d{8}\/[a-z0-9-]+\/secretsmanager\/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$/;

export async function startSecretsManagerStub(
  secretId: string,
  secretString: string,
): Promise<SecretsManagerStub> {
  const stub = { url: '', requests: 0, close: async () => undefined } as SecretsManagerStub;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    req.on('end', () => {
      stub.requests++;
      const fail = (status: number, type: string, message: string): void => {
        res
          .writeHead(status, { 'content-type': 'application/x-amz-json-1.1' })
          .end(JSON.stringify({ __type: type, message }));
      };
      if (!SIGV4.test(String(req.headers.authorization ?? '')))
        return fail(403, 'IncompleteSignatureException', 'not signed');
      if (req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue')
        return fail(400, 'UnknownOperationException', 'unknown');
      const { SecretId } = JSON.parse(body) as { SecretId?: string };
      if (SecretId !== secretId)
        return fail(400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      res
        .writeHead(200, { 'content-type': 'application/x-amz-json-1.1' })
        .end(JSON.stringify({ ARN: secretId, SecretString: secretString }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  stub.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return stub;
}
