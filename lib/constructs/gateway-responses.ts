/**
 * API Gateway's own answers (bad or missing authentication, stage throttling, a body too large, a
 * path with no route, its own failures) in the error shape of the source APIs: the AWS error name in
 * `x-amzn-ErrorType` and a JSON body with `message`, so an AWS SDK raises the typed exception it
 * raises for the same error from the service, instead of an untyped one.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
 * https://docs.aws.amazon.com/codecatalyst/latest/APIReference/CommonErrors.html
 */
import { ResponseType, type RestApi } from 'aws-cdk-lib/aws-apigateway';

/** A gateway response and the AWS error name it carries (its status stays API Gateway's). */
export interface GatewayError {
  type: ResponseType;
  errorType: string;
}

/**
 * The responses replaced. Without a route, API Gateway answers an IAM-authorized API with
 * MISSING_AUTHENTICATION_TOKEN (403), whether the path exists or the request is unsigned: the
 * message (API Gateway's own) says which, the name is AccessDeniedException either way.
 */
export const GATEWAY_ERRORS: readonly GatewayError[] = [
  { type: ResponseType.ACCESS_DENIED, errorType: 'AccessDeniedException' },
  { type: ResponseType.UNAUTHORIZED, errorType: 'AccessDeniedException' },
  { type: ResponseType.MISSING_AUTHENTICATION_TOKEN, errorType: 'AccessDeniedException' },
  { type: ResponseType.THROTTLED, errorType: 'ThrottlingException' },
  { type: ResponseType.REQUEST_TOO_LARGE, errorType: 'ValidationException' },
  { type: ResponseType.RESOURCE_NOT_FOUND, errorType: 'UnknownOperationException' },
  { type: ResponseType.DEFAULT_4XX, errorType: 'ValidationException' },
  { type: ResponseType.DEFAULT_5XX, errorType: 'InternalServerException' },
];

/**
 * The body of every gateway response: `$context.error.messageString` is API Gateway's message,
 * already a quoted and escaped JSON string.
 */
export const GATEWAY_ERROR_BODY = '{"message":$context.error.messageString}';

/** Puts {@link GATEWAY_ERRORS} on `api`. */
export function addAwsShapedGatewayResponses(api: RestApi): void {
  for (const error of GATEWAY_ERRORS) {
    api.addGatewayResponse(`GatewayResponse${error.type.responseType}`, {
      type: error.type,
      responseHeaders: {
        // Header values of gateway responses are mapping expressions: a literal is quoted.
        'x-amzn-ErrorType': `'${error.errorType}'`,
        'Content-Type': "'application/json'",
      },
      templates: { 'application/json': GATEWAY_ERROR_BODY },
    });
  }
}
