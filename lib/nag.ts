/**
 * cdk-nag (v3) acknowledgments that need the synthesized form of a resource. `AwsSolutions-IAM5`
 * names each wildcard resource by its flattened CloudFormation value, which for a bucket of another
 * stack is an export name known only once references are resolved; the acknowledgment is therefore
 * recorded during synthesis, from the very value the policy holds.
 */
import { Stack, Validations } from 'aws-cdk-lib';
// The rule pack's own renderer, so the acknowledged id is exactly the finding's id.
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges `AwsSolutions-IAM5` for exactly these wildcard resources (e.g. a folder's
 * `arn:...:bucket/folder/*`) on `policyOwner` and its children (a role and its default policy).
 *
 * @example
 * acknowledgeWildcardResources(fn.role!, [bucket.arnForObjects('_ledger/*')], 'objects of one folder');
 */
export function acknowledgeWildcardResources(
  policyOwner: IConstruct,
  resources: readonly string[],
  reason: string,
): void {
  policyOwner.node.addValidation({
    validate: () => {
      const stack = Stack.of(policyOwner);
      Validations.of(policyOwner).acknowledge(
        ...resources.map((resource) => ({
          id: `AwsSolutions-IAM5[Resource::${flattenCfnReference(stack.resolve(resource))}]`,
          reason,
        })),
      );
      return [];
    },
  });
}
