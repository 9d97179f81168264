/**
 * The demo space's cast and catalogue: the team, the projects, the user agents and the reads that
 * make up most of a log. Plain data; the generation is in the sibling modules.
 */
import type { UserIdentityWire } from './wire';

export interface Person {
  identity: UserIdentityWire;
  /** Hours east of UTC. */
  utcOffset: number;
  ips: string[];
  browser: string;
  projects: string[];
}

export interface Repo {
  name: string;
  project: string;
  createdMs: number;
  deletedMs: number;
}

export interface Project {
  name: string;
  key: string;
  projectId: string;
  workflows: string[];
  topics: string[];
  createdMs: number;
  deletedMs: number;
}

/** One event before its ids and identity fields are filled in. */
export interface Draft {
  t: number;
  name: string;
  source: string;
  person: Person;
  project?: Project;
  request: Record<string, unknown>;
  response?: Record<string, unknown>;
  errorCode?: string;
  service?: boolean;
  agent?: string;
  ip?: string;
}

export const BROWSERS = [
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.6; rv:133.0) Gecko/20100101 Firefox/133.0',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
];
export const CLI_AGENT =
  'aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe prompt/off command/codecatalyst.list-event-logs';
export const IDE_AGENT = 'AWS-Toolkit-For-VSCode/3.38.0 Visual-Studio-Code/1.95.3 ClientId/5f6e0b1c';
export const SERVICE_AGENT = 'codecatalyst.amazonaws.com';
export const ODD_AGENT = 'python-requests/2.32.3';
export const AUTOMATION_AGENT =
  'aws-sdk-js/3.693.0 ua/2.1 os/linux#5.10.227 lang/js md/nodejs#20.18.0 api/codecatalyst#3.693.0';

// name, UTC offset, projects (by key)
export const TEAM: readonly [string, number, string[]][] = [
  ['MaryMajor', 1, ['CHK', 'INFRA']],
  ['RichardRoe', -5, ['INFRA', 'WEB']],
  ['JohnDoe', -5, ['CHK', 'WEB']],
  ['JaneDoe', -5, ['WEB']],
  ['SaanviSarkar', 5.5, ['DATA']],
  ['ArnavDesai', 5.5, ['DATA', 'SRCH']],
  ['JorgeSouza', 1, ['CHK']],
  ['MartaRivera', 1, ['MOB']],
  ['PauloSantos', -3, ['MOB', 'WEB']],
  ['ShirleyRodriguez', -5, ['MOB']],
  ['WangXiulan', 1, ['DATA', 'SRCH']],
  ['NikhilJayashankar', 5.5, ['INFRA', 'CHK']],
];

/** key, name, repositories, workflows, topics of branches and pull requests. */
export type ProjectRow = [string, string, string[], string[], string[]];

export const PROJECTS: readonly ProjectRow[] = [
  [
    'CHK',
    'checkout-service',
    ['checkout-service', 'checkout-infra'],
    ['build-and-test', 'deploy-staging', 'deploy-production'],
    ['apple-pay', 'retry-declined-cards', 'tax-rounding', 'idempotency-keys', 'cart-timeout', 'refund-api'],
  ],
  [
    'MOB',
    'mobile-app',
    ['mobile-app'],
    ['build-and-test', 'build-ios', 'build-android'],
    ['dark-mode', 'push-opt-in', 'offline-cart', 'crash-on-login', 'deep-links', 'a11y-labels'],
  ],
  [
    'DATA',
    'data-platform',
    ['ingest-jobs', 'warehouse-models'],
    ['build-and-test', 'nightly-etl'],
    ['late-events', 'partition-pruning', 'orders-model', 'dedupe-clicks', 'gdpr-erasure', 'backfill-q3'],
  ],
  [
    'WEB',
    'web-storefront',
    ['storefront'],
    ['build-and-test', 'deploy-production'],
    ['search-box', 'image-cdn', 'checkout-button', 'cookie-banner', 'price-format', 'lazy-load'],
  ],
  [
    'INFRA',
    'platform-infra',
    ['infra-live', 'terraform-modules'],
    ['plan', 'apply'],
    ['vpc-endpoints', 'rds-upgrade', 'waf-rules', 'budget-alarms', 'eks-1-31', 'log-retention'],
  ],
];
/** Created mid-month; deleted on the unusual night. */
export const NEW_PROJECT: ProjectRow = [
  'SRCH',
  'search-prototype',
  ['search-service'],
  ['build-and-test'],
  ['opensearch-index', 'synonyms', 'ranking-v2', 'typeahead'],
];
export const STRANGER = 'ops-support-ext';
export const STRANGER_IP = '192.0.2.146';
/** Browsing: the reads that make up most of a log, [name, source, needs a project]. */
export const READS: readonly [string, string, boolean][] = [
  ['verifySession', 'manage', false],
  ['getUserDetails', 'manage', false],
  ['getSpace', 'manage', false],
  ['listProjects', 'manage', false],
  ['getProject', 'manage', true],
  ['listSourceRepositories', 'sourcecode', true],
  ['getSourceRepository', 'sourcecode', true],
  ['listSourceRepositoryBranches', 'sourcecode', true],
  ['listPullRequests', 'sourcecode', true],
  ['getPullRequest', 'sourcecode', true],
  ['listWorkflows', 'workflows', true],
  ['listWorkflowRuns', 'workflows', true],
  ['getWorkflowRun', 'workflows', true],
  ['listDevEnvironments', 'devenvironments', true],
  ['getDevEnvironment', 'devenvironments', true],
  ['listIssues', 'issues', true],
];
