/** Secrets Manager `GetSecretValue` as one signed request (a full SDK client would add ~35 KB to the bundle). */
import { withRetry } from '@eventlog-archive/shared';
import { endpointFor, signedJsonRequest } from './aws-request';

/** The secret's string value. The region is taken from the ARN, so a secret in another region works. */
export async function getSecretString(
  secretId: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const region =
    /^arn:[^:]+:secretsmanager:([^:]+):/.exec(secretId)?.[1] ??
    env.AWS_REGION ??
    env.AWS_DEFAULT_REGION ??
    'us-east-1';
  const out = await withRetry(() =>
    signedJsonRequest<{ SecretString?: string }>({
      service: 'secretsmanager',
      region,
      endpoint: endpointFor('SECRETS_MANAGER', `https://secretsmanager.${region}.amazonaws.com`, env),
      method: 'POST',
      path: '/',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'secretsmanager.GetSecretValue',
      },
      body: JSON.stringify({ SecretId: secretId }),
      timeoutMs: 10_000,
    }),
  );
  if (typeof out.SecretString !== 'string')
    throw new Error(`the secret ${secretId} has no SecretString (binary secrets are not supported)`);
  return out.SecretString;
}
