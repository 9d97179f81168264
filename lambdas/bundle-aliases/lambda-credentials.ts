/**
 * Replaces `@aws-sdk/credential-provider-node` in function bundles (see lambdas/build.ts).
 * In Lambda the execution role's credentials are always in the environment, so the rest of the
 * default chain (SSO, INI files, web identity, IMDS, …) is dead weight: about 100 KB of bundle
 * and module load time on every cold start. The CLI runs from source and keeps the full chain.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

export const defaultProvider = (): ReturnType<typeof fromEnv> => fromEnv();
export const fromNodeProviderChain = defaultProvider;
