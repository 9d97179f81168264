import { type Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import {
  type ISchedule,
  type IScheduleTarget,
  Schedule,
  ScheduleExpression,
  ScheduleGroup,
  type ScheduleTargetConfig,
  ScheduleTargetInput,
  TimeWindow,
} from 'aws-cdk-lib/aws-scheduler';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface IngestSchedulerProps {
  /** The function every schedule invokes (asynchronously, its unqualified ARN). */
  readonly function: IFunction;
  /** Where Scheduler puts an invocation it could not deliver after its retries. */
  readonly deadLetterQueue: IQueue;
  /** The dead-letter queue's customer-managed key, if it has one. */
  readonly deadLetterKey?: IKey;
  /** How often each schedule runs. */
  readonly rate: Duration;
}

/**
 * What every instance's schedule shares: one EventBridge Scheduler schedule group, one invoke role, the
 * dead-letter queue and the retry policy. {@link addSchedule} adds one schedule, which adds no policy
 * statement, role or Lambda permission: the role's grants are made once here, so the function's
 * resource policy (20 KB) and the queue's policy no longer grow with the number of instances.
 */
export class IngestScheduler extends Construct {
  readonly group: ScheduleGroup;
  /** The one role Scheduler assumes to invoke the function and write dead letters. */
  readonly role: Role;
  private readonly target: Omit<ScheduleTargetConfig, 'input'>;
  private readonly rate: Duration;

  constructor(scope: Construct, id: string, props: IngestSchedulerProps) {
    super(scope, id);
    this.rate = props.rate;
    // Schedules are CloudFormation's; the group holds nothing else, so it goes with the stack.
    this.group = new ScheduleGroup(this, 'Group', { removalPolicy: RemovalPolicy.DESTROY });

    // Confused-deputy protection: only Scheduler acting for this account's group may assume it
    // (https://docs.aws.amazon.com/scheduler/latest/UserGuide/cross-service-confused-deputy-prevention.html).
    this.role = new Role(this, 'InvokeRole', {
      description: 'EventBridge Scheduler: invokes the eventlog-archive ingest function',
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': Stack.of(this).account,
            'aws:SourceArn': this.group.scheduleGroupArn,
          },
        },
      }),
    });
    // The unqualified ARN only: no version or alias is ever scheduled.
    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['lambda:InvokeFunction'],
        resources: [props.function.functionArn],
      }),
    );
    // Scheduler writes dead letters with the schedule's role, not as a service principal
    // (https://docs.aws.amazon.com/scheduler/latest/UserGuide/configuring-schedule-dlq.html), so the
    // queue's own policy needs no statement for it; an encrypted queue needs the key too.
    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['sqs:SendMessage'],
        resources: [props.deadLetterQueue.queueArn],
      }),
    );
    props.deadLetterKey?.grant(this.role, 'kms:GenerateDataKey', 'kms:Decrypt');

    this.target = {
      arn: props.function.functionArn,
      role: this.role,
      deadLetterConfig: { arn: props.deadLetterQueue.queueArn },
      // As the EventBridge rules had: two retries within an hour, then the dead-letter queue.
      retryPolicy: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 3600 },
    };
  }

  /** A schedule in `scope` that sends `input` to the function every period. */
  addSchedule(scope: Construct, id: string, description: string, input: object): Schedule {
    const target: IScheduleTarget = {
      bind: (_schedule: ISchedule): ScheduleTargetConfig => ({
        ...this.target,
        input: ScheduleTargetInput.fromObject(input),
      }),
    };
    return new Schedule(scope, id, {
      scheduleGroup: this.group,
      schedule: ScheduleExpression.rate(this.rate),
      target,
      // Scheduler allows 512 characters.
      description: description.length > 512 ? `${description.slice(0, 511)}…` : description,
      // On time, not spread. The Lag alarm needs a report from the instance in every schedule period;
      // a random delay of up to W minutes moves some runs into the next period and leaves periods
      // empty for instances whose schedule fires in the last W minutes of a period. The price: the
      // schedules created by one deploy fire within minutes of each other. Lambda queues what it
      // cannot start at once (maxEventAge one hour) and each run halves its request concurrency when
      // the source throttles.
      timeWindow: TimeWindow.off(),
    });
  }
}
