/** `securityLake`: delivery of each source's archived days to an Amazon Security Lake custom source. */
import { compact, matching, type Section } from './checks';
import type { SecurityLakeConfig, SecurityLakeTargetConfig } from './types';

const TARGET_KEYS = ['sourceName', 'bucket', 'providerRoleArn', 'externalId', 'region', 'accountId'];

// Security Lake: a custom source name is 1 to 64 characters, letters, digits, '_' and '-'.
const SOURCE_NAME = /^[A-Za-z0-9_-]{1,64}$/;
// S3 general purpose bucket naming rules.
const BUCKET =
  /^(?!xn--|sthree-|amzn-s3-demo-)(?!.*(?:-s3alias|--ol-s3|\.\.|\.-|-\.))[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[A-Za-z0-9+=,.@_/-]{1,512}$/;
// sts:AssumeRole's ExternalId: 2 to 1224 characters of [\w+=,.@:/-].
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d$/;
const ACCOUNT_ID = /^\d{12}$/;

/** `securityLake`, or undefined when it is absent. */
export function securityLakeSettings(root: Section): SecurityLakeConfig | undefined {
  const lake = root.optionalSection('securityLake', ['codecatalyst', 'resiliencehub']);
  if (!lake) return undefined;
  return compact({
    codecatalyst: target(lake, 'codecatalyst'),
    resiliencehub: target(lake, 'resiliencehub'),
  });
}

function target(lake: Section, key: string): SecurityLakeTargetConfig | undefined {
  const section = lake.optionalSection(key, TARGET_KEYS);
  if (!section) return undefined;
  return {
    sourceName: section.require(
      'sourceName',
      matching(SOURCE_NAME, "must be the custom source's name: 1 to 64 letters, digits, '_' or '-'"),
    ),
    bucket: section.require(
      'bucket',
      matching(
        BUCKET,
        'must be an S3 bucket name (3 to 63 lowercase letters, digits, "." and "-"), the Security Lake bucket',
      ),
    ),
    providerRoleArn: section.require(
      'providerRoleArn',
      matching(
        ROLE_ARN,
        "must be an IAM role ARN: arn:<partition>:iam::<12-digit account>:role/<name> (the custom source's AmazonSecurityLake-Provider-… role)",
      ),
    ),
    externalId: section.require(
      'externalId',
      matching(
        EXTERNAL_ID,
        "must be the custom source's external id: 2 to 1224 characters of letters, digits and +=,.@:/-_",
      ),
    ),
    ...compact({
      region: section.optional('region', matching(REGION, 'must be an AWS Region name such as us-west-2')),
      accountId: section.optional('accountId', matching(ACCOUNT_ID, 'must be a 12-digit AWS account id')),
    }),
  };
}
