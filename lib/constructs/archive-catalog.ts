import { Stack } from 'aws-cdk-lib';
import { CfnDatabase, CfnTable } from 'aws-cdk-lib/aws-glue';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { FieldSpec } from '../../lambdas/core/records';
import { glueColumnsOf } from '../glue-columns';

/** The day partition every table has, as the ingest writes it (`dt=YYYY-MM-DD`, UTC). */
export const DAY_PARTITION_KEY = 'dt';

export const PARQUET_FORMAT = {
  inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
} as const;

/** One source's table: its folder under the archive prefix is the table name. */
export interface ArchiveTableSpec {
  /** Glue table name and folder, e.g. `codecatalyst_event_logs`. */
  readonly tableName: string;
  /** Partition column of a source instance, e.g. `space` or `system`. */
  readonly partitionKey: string;
  /** The source's field declaration; the columns derive from it. */
  readonly fields: readonly FieldSpec[];
  readonly description?: string;
  /**
   * The instances' partition values (as the ingest writes them): with any, the instance partition is
   * an `enum` of them, so a query without an instance predicate reads every one of them; with none,
   * it is `injected` (every query must name one).
   */
  readonly partitionValues?: readonly string[];
}

export interface ArchiveCatalogProps {
  /** The archive bucket. */
  readonly bucket: IBucket;
  /** '' or a key prefix ending in '/'. */
  readonly archivePrefix: string;
  readonly databaseName: string;
  /** First day partition projection knows about, YYYY-MM-DD. */
  readonly projectionStartDate: string;
}

/** What a compute stack needs to know about a table. */
export interface ArchiveTableInfo {
  readonly tableName: string;
  readonly partitionKey: string;
}

/**
 * The Glue database and one Parquet table per source over the archive, partitioned by source
 * instance and day with partition projection: no crawler, no `MSCK REPAIR`, new days and new
 * instances are queryable the moment their files exist.
 *
 * The instance partition is an `enum` of the configured instances' partition values, so a question
 * across instances needs no instance predicate, and a query naming one (`space = '…'`, as the API's
 * SQL always does) still reads only that one; a source with no instance configured keeps `injected`.
 * The day partition is a date range up to `NOW`.
 * https://docs.aws.amazon.com/athena/latest/ug/partition-projection-supported-types.html
 */
export class ArchiveCatalog extends Construct {
  readonly database: CfnDatabase;
  readonly databaseName: string;
  private readonly props: ArchiveCatalogProps;
  private readonly tableList: ArchiveTableInfo[] = [];
  private readonly cfnTables = new Map<string, CfnTable>();

  constructor(scope: Construct, id: string, props: ArchiveCatalogProps) {
    super(scope, id);
    this.props = props;
    this.databaseName = props.databaseName;
    this.database = new CfnDatabase(this, 'Database', {
      catalogId: Stack.of(this).account,
      databaseInput: {
        name: props.databaseName,
        description: 'eventlog-archive: the archived event logs, one table per source',
      },
    });
  }

  /** The tables added so far, in order. */
  get tables(): readonly ArchiveTableInfo[] {
    return this.tableList;
  }

  /** The CloudFormation resource of a table added with `addTable`. */
  cfnTable(tableName: string): CfnTable {
    const table = this.cfnTables.get(tableName);
    if (!table) throw new Error(`ArchiveCatalog: no table ${tableName}`);
    return table;
  }

  /** `s3://bucket/<prefix><table>/`: the table's location. */
  tableLocation(tableName: string): string {
    return `s3://${this.props.bucket.bucketName}/${this.props.archivePrefix}${tableName}/`;
  }

  /**
   * Adds one source's table.
   *
   * @example
   * catalog.addTable({ tableName: CODECATALYST_TABLE, partitionKey: 'space', fields: CODECATALYST_FIELDS });
   */
  addTable(spec: ArchiveTableSpec): CfnTable {
    if (this.cfnTables.has(spec.tableName)) throw new Error(`ArchiveCatalog: table ${spec.tableName} twice`);
    const location = this.tableLocation(spec.tableName);
    const key = spec.partitionKey;
    const table = new CfnTable(this, `Table-${spec.tableName}`, {
      catalogId: Stack.of(this).account,
      databaseName: this.databaseName,
      tableInput: {
        name: spec.tableName,
        ...(spec.description ? { description: spec.description } : {}),
        tableType: 'EXTERNAL_TABLE',
        parameters: {
          classification: 'parquet',
          EXTERNAL: 'TRUE',
          'projection.enabled': 'true',
          ...instanceProjection(key, spec.partitionValues ?? []),
          [`projection.${DAY_PARTITION_KEY}.type`]: 'date',
          [`projection.${DAY_PARTITION_KEY}.format`]: 'yyyy-MM-dd',
          [`projection.${DAY_PARTITION_KEY}.range`]: `${this.props.projectionStartDate},NOW`,
          [`projection.${DAY_PARTITION_KEY}.interval`]: '1',
          [`projection.${DAY_PARTITION_KEY}.interval.unit`]: 'DAYS',
          // The layout of lambdas/core/layout.ts: <table>/<key>=<instance>/dt=<day>/.
          'storage.location.template': `${location}${key}=\${${key}}/${DAY_PARTITION_KEY}=\${${DAY_PARTITION_KEY}}/`,
        },
        partitionKeys: [
          { name: key, type: 'string' },
          { name: DAY_PARTITION_KEY, type: 'string' },
        ],
        storageDescriptor: {
          location,
          inputFormat: PARQUET_FORMAT.inputFormat,
          outputFormat: PARQUET_FORMAT.outputFormat,
          serdeInfo: {
            serializationLibrary: PARQUET_FORMAT.serializationLibrary,
            parameters: { 'serialization.format': '1' },
          },
          columns: glueColumnsOf(spec.fields),
          compressed: false,
          storedAsSubDirectories: false,
        },
      },
    });
    table.node.addDependency(this.database);
    this.cfnTables.set(spec.tableName, table);
    this.tableList.push({ tableName: spec.tableName, partitionKey: spec.partitionKey });
    return table;
  }
}

/** The projection of the instance partition: an `enum` of `values`, or `injected` when there are none. */
function instanceProjection(key: string, values: readonly string[]): Record<string, string> {
  const unique = [...new Set(values)].sort();
  // An enum's values are comma-separated; the ingest's partition values never hold a comma.
  for (const value of unique)
    if (value === '' || value.includes(','))
      throw new Error(`ArchiveCatalog: partition value "${value}" of ${key} cannot be an enum value`);
  return unique.length === 0
    ? { [`projection.${key}.type`]: 'injected' }
    : { [`projection.${key}.type`]: 'enum', [`projection.${key}.values`]: unique.join(',') };
}
