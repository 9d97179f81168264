/**
 * `query.authorization: "token"` at synth: a TOKEN authorizer on the bearer route (ListEventLogs)
 * only, with the validation expression and cache TTL the settings ask for; IAM everywhere else; and
 * the token records (`_tokens/`) readable by the authorizer's role and by no other role of the app.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { TOKEN_HEADER_PATTERN } from '../../lambdas/authorizer/policy';
import { loadConfig } from '../../lib/config';
import {
  actionsOf,
  buildApp,
  flat,
  onlyResource,
  resourcesOf,
  roleStatements,
  type Statement,
} from './helpers';

const TOKENS = {
  codecatalyst: { spaces: ['my-space'] },
  resiliencehub: { systemArns: ['arn:aws:resiliencehub:us-east-1:123456789012:system/checkout'] },
  archivePrefix: 'archive/',
  query: { authorization: 'token', authorizerCacheSeconds: 30 },
};

function methods(template: Template): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    Object.values(template.findResources('AWS::ApiGateway::Method')).map((m) => {
      const props = (m as { Properties: Record<string, unknown> }).Properties;
      return [props.HttpMethod as string, props];
    }),
  );
}

function functionRoleId(template: Template, handlerPrefix: string): string {
  const fns = Object.values(template.findResources('AWS::Lambda::Function')) as {
    Properties: { Description?: string; Role: { 'Fn::GetAtt': [string, string] } };
  }[];
  const fn = fns.find((f) => f.Properties.Description?.startsWith(handlerPrefix));
  if (!fn) throw new Error(`no function described as ${handlerPrefix}…`);
  return fn.Properties.Role['Fn::GetAtt'][0];
}

/** Every statement of every identity policy in a template, with the role(s) it is attached to. */
function allStatements(template: Template): { roles: string[]; statement: Statement }[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) => {
    const props = (
      p as { Properties: { Roles?: { Ref?: string }[]; PolicyDocument: { Statement: unknown } } }
    ).Properties;
    const roles = (props.Roles ?? []).map((r) => r.Ref ?? '');
    return (flat(props.PolicyDocument.Statement) as Statement[]).map((statement) => ({ roles, statement }));
  });
}

describe('token authorization', () => {
  it('puts a TOKEN authorizer with the token form and the cache TTL on ListEventLogs only', () => {
    // Act
    const { queryTemplate } = buildApp(TOKENS);
    const authorizer = onlyResource(queryTemplate, 'AWS::ApiGateway::Authorizer');
    const byMethod = methods(queryTemplate);

    // Assess
    expect(authorizer.resource.Properties).toMatchObject({
      Type: 'TOKEN',
      IdentitySource: 'method.request.header.Authorization',
      IdentityValidationExpression: TOKEN_HEADER_PATTERN.source,
      AuthorizerResultTtlInSeconds: 30,
    });
    expect(byMethod.POST).toMatchObject({
      AuthorizationType: 'CUSTOM',
      AuthorizerId: { Ref: authorizer.id },
    });
    // Resilience Hub's SDK signs with SigV4: its route keeps IAM, so that SDK works unchanged too.
    expect(byMethod.GET?.AuthorizationType).toBe('AWS_IAM');
  });

  it('accepts exactly the form `token create` prints in the validation expression', () => {
    const token = `ela_${'0123456789abcdef'}_${'A'.repeat(42)}-`;
    expect(TOKEN_HEADER_PATTERN.test(`Bearer ${token}`)).toBe(true);
    expect(TOKEN_HEADER_PATTERN.test(`bearer ${token}`)).toBe(false);
    expect(TOKEN_HEADER_PATTERN.test(`Bearer ${token}x`)).toBe(false);
    expect(TOKEN_HEADER_PATTERN.test('AWS4-HMAC-SHA256 Credential=AKIA/20260101/us-east-1/execute-api')).toBe(
      false,
    );
  });

  it('lets the authorizer read the token records and nothing else of the archive', () => {
    // Act
    const { queryTemplate } = buildApp(TOKENS);
    const statements = roleStatements(
      queryTemplate,
      functionRoleId(queryTemplate, 'Checks the bearer tokens'),
    );
    const s3 = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('s3:')));

    // Assess
    expect(s3.map((s) => actionsOf(s)).sort()).toEqual([['s3:GetObject'], ['s3:ListBucket']]);
    const get = s3.find((s) => actionsOf(s).includes('s3:GetObject'))!;
    expect(resourcesOf(get)).toEqual([expect.stringMatching(/\/archive\/_tokens\/\*$/)]);
    const list = s3.find((s) => actionsOf(s).includes('s3:ListBucket'))!;
    expect(list.Condition).toEqual({ StringLikeIfExists: { 's3:prefix': ['archive/_tokens/*'] } });
  });

  it('gives no other role of the app any access to the token records', () => {
    // Act
    const built = buildApp(TOKENS);
    const authorizerRole = functionRoleId(built.queryTemplate, 'Checks the bearer tokens');
    const others = [built.storageTemplate, built.ingestTemplate, built.queryTemplate].flatMap((template) =>
      allStatements(template).filter(({ roles }) => !roles.includes(authorizerRole)),
    );
    const objectGrants = others.filter(({ statement }) =>
      actionsOf(statement).some((a) => a === 's3:*' || a === 's3:GetObject' || a.startsWith('s3:Get')),
    );

    // Assess: every object grant of another role names a folder, and none is the token folder.
    expect(objectGrants.length).toBeGreaterThan(0);
    for (const { statement } of objectGrants) {
      for (const resource of resourcesOf(statement).map(String)) {
        expect(resource).not.toContain('_tokens');
        // A grant on the whole archive prefix (`…/archive/*` or `…Arn>/*`) would cover `_tokens/`.
        expect(resource).not.toMatch(/(?:Arn>|\/archive)\/\*$/);
      }
    }
  });

  it('keeps IAM everywhere and makes no authorizer by default', () => {
    const { queryTemplate } = buildApp({ codecatalyst: { spaces: ['my-space'] } });
    queryTemplate.resourceCountIs('AWS::ApiGateway::Authorizer', 0);
    for (const method of Object.values(methods(queryTemplate)))
      expect(method.AuthorizationType).toBe('AWS_IAM');
  });

  it('refuses an unknown authorization and a cache TTL outside API Gateway’s range', () => {
    expect(() => loadConfig({ query: { authorization: 'cognito' } })).toThrow(
      /query\.authorization.*must be "iam" or "token"/,
    );
    expect(() => loadConfig({ query: { authorizerCacheSeconds: 3601 } })).toThrow(
      /query\.authorizerCacheSeconds.*3600/,
    );
  });
});
