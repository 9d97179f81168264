/**
 * The OCSF 1.1.0 events the archive writes, as TypeScript: only the attributes the mappings fill
 * (lambdas/core/sources/<source>/ocsf.ts). Attribute names are OCSF's (snake_case); times are
 * OCSF `timestamp_t`, epoch milliseconds. The schema itself is https://schema.ocsf.io/1.1.0/.
 */

/** https://schema.ocsf.io/1.1.0/objects/account */
export interface OcsfAccount {
  uid?: string;
  name?: string;
  type_id?: number;
  type?: string;
}

/** https://schema.ocsf.io/1.1.0/objects/user */
export interface OcsfUser {
  uid?: string;
  name?: string;
  type_id?: number;
  type?: string;
  account?: OcsfAccount;
}

/** https://schema.ocsf.io/1.1.0/objects/actor */
export interface OcsfActor {
  user?: OcsfUser;
}

/** https://schema.ocsf.io/1.1.0/objects/api */
export interface OcsfApi {
  operation: string;
  service?: { name?: string; uid?: string };
  /** https://schema.ocsf.io/1.1.0/objects/request: `uid` is required when the object is present. */
  request?: { uid: string; data?: unknown };
  /** https://schema.ocsf.io/1.1.0/objects/response */
  response?: { error?: string; error_message?: string; message?: string; data?: unknown };
}

/** https://schema.ocsf.io/1.1.0/objects/network_endpoint */
export interface OcsfNetworkEndpoint {
  ip?: string;
  svc_name?: string;
  name?: string;
}

/** https://schema.ocsf.io/1.1.0/objects/cloud */
export interface OcsfCloud {
  provider: string;
  region?: string;
  account?: OcsfAccount;
}

/** https://schema.ocsf.io/1.1.0/objects/resource_details */
export interface OcsfResourceDetails {
  uid?: string;
  name?: string;
  type?: string;
}

/** https://schema.ocsf.io/1.1.0/objects/managed_entity */
export interface OcsfManagedEntity {
  uid?: string;
  name?: string;
  type?: string;
}

/** https://schema.ocsf.io/1.1.0/objects/metadata */
export interface OcsfMetadata {
  /** The OCSF version, `1.1.0`. */
  version: string;
  /** The product that produced the event (the source service), https://schema.ocsf.io/1.1.0/objects/product. */
  product: { name: string; vendor_name: string; version?: string };
  /** The source's event id. */
  uid: string;
  /** The event time as the source sent it. */
  original_time?: string;
  /** When the archive logged the event, if the caller knows. */
  logged_time?: number;
  /** The archive table the event comes from. */
  log_name?: string;
  /** `eventlog-archive`. */
  log_provider?: string;
  /** The source's own event type code, where the class has no better place for it. */
  event_code?: string;
  profiles: string[];
}

/** The attributes every class has (https://schema.ocsf.io/1.1.0/base_event). */
export interface OcsfBaseEvent {
  class_uid: number;
  class_name: string;
  category_uid: number;
  category_name: string;
  activity_id: number;
  activity_name: string;
  /** class_uid × 100 + activity_id. */
  type_uid: number;
  type_name: string;
  severity_id: number;
  severity: string;
  status_id: number;
  status: string;
  status_code?: string;
  /** Epoch milliseconds. */
  time: number;
  message?: string;
  metadata: OcsfMetadata;
  cloud: OcsfCloud;
  /**
   * Every source value with no OCSF attribute, by its source path (`requestPayload.contentType`),
   * as text: a flat string map, so nothing is lost and any store (a Parquet MAP<STRING, STRING>) holds it.
   */
  unmapped?: Record<string, string>;
}

/** https://schema.ocsf.io/1.1.0/classes/api_activity (6003). */
export interface OcsfApiActivity extends OcsfBaseEvent {
  actor: OcsfActor;
  api: OcsfApi;
  src_endpoint: OcsfNetworkEndpoint;
  http_request?: { user_agent?: string };
  resources?: OcsfResourceDetails[];
}

/** https://schema.ocsf.io/1.1.0/classes/entity_management (3004). */
export interface OcsfEntityManagement extends OcsfBaseEvent {
  actor?: OcsfActor;
  entity: OcsfManagedEntity;
}

export type OcsfEvent = OcsfApiActivity | OcsfEntityManagement;
