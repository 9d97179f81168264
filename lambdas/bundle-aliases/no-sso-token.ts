/**
 * Replaces `@aws-sdk/token-providers` in function bundles (see lambdas/build.ts). The CodeCatalyst
 * client is always given its token explicitly (a PAT from Secrets Manager), so the SSO token chain
 * and its OIDC client are never used in Lambda.
 */
export const nodeProvider = (): (() => Promise<never>) => async () => {
  throw new Error('the CodeCatalyst token must be configured explicitly (CODECATALYST_TOKEN_SECRET_ARN)');
};
