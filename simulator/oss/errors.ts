// OSS error codes, HTTP statuses and messages as the real service answers them, so clients
// (ali-oss maps `Code` to `err.code` and `${Code}Error` to `err.name`) behave as against OSS.

export interface OssErrorDetails {
  [element: string]: string | undefined;
}

export class OssError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly details: OssErrorDetails = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'OssError';
  }
}

export const ossErrors = {
  accessDenied: (message = 'You have no right to access this object because of bucket acl.') =>
    new OssError('AccessDenied', 403, message),
  invalidAccessKeyId: (accessKeyId: string) =>
    new OssError('InvalidAccessKeyId', 403, 'The OSS Access Key Id you provided does not exist in our records.', {
      OSSAccessKeyId: accessKeyId,
    }),
  signatureDoesNotMatch: (stringToSign: string, provided: string, accessKeyId: string) =>
    new OssError(
      'SignatureDoesNotMatch',
      403,
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      {
        OSSAccessKeyId: accessKeyId,
        SignatureProvided: provided,
        StringToSign: stringToSign,
        StringToSignBytes: Buffer.from(stringToSign, 'utf8').toString('hex').replace(/(..)(?!$)/g, '$1 ').toUpperCase(),
      },
    ),
  requestTimeTooSkewed: (requestTime: string, serverTime: string) =>
    new OssError('RequestTimeTooSkewed', 403, 'The difference between the request time and the current time is too large.', {
      RequestTime: requestTime,
      ServerTime: serverTime,
    }),
  requestExpired: (expires: string, serverTime: string) =>
    new OssError('AccessDenied', 403, 'Request has expired.', { Expires: expires, ServerTime: serverTime }),
  noSuchBucket: (bucket: string) =>
    new OssError('NoSuchBucket', 404, 'The specified bucket does not exist.', { BucketName: bucket }),
  noSuchKey: (key: string) => new OssError('NoSuchKey', 404, 'The specified key does not exist.', { Key: key }),
  noSuchUpload: (uploadId: string) =>
    new OssError(
      'NoSuchUpload',
      404,
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
      { UploadId: uploadId },
    ),
  bucketNotEmpty: (bucket: string) =>
    new OssError('BucketNotEmpty', 409, 'The bucket you tried to delete is not empty.', { BucketName: bucket }),
  invalidBucketName: (bucket: string) =>
    new OssError('InvalidBucketName', 400, 'The specified bucket is not valid.', { BucketName: bucket }),
  invalidObjectName: (key: string) =>
    new OssError('InvalidObjectName', 400, 'The name of the object is not valid.', { Key: key }),
  invalidArgument: (message: string, name?: string, value?: string) =>
    new OssError('InvalidArgument', 400, message, { ArgumentName: name, ArgumentValue: value }),
  invalidDigest: () => new OssError('InvalidDigest', 400, 'The Content-MD5 you specified is not valid.'),
  badDigest: (expected: string, calculated: string) =>
    new OssError('InvalidDigest', 400, 'The Content-MD5 you specified did not match what we received.', {
      ExpectedDigest: expected,
      CalculatedDigest: calculated,
    }),
  incompleteBody: () =>
    new OssError('IncompleteBody', 400, 'You did not provide the number of bytes specified by the Content-Length HTTP header.'),
  malformedXml: () =>
    new OssError('MalformedXML', 400, 'The XML you provided was not well-formed or did not validate against our published schema.'),
  invalidPart: (partNumber: number) =>
    new OssError(
      'InvalidPart',
      400,
      'One or more of the specified parts could not be found or the specified entity tag might not have matched the part\'s entity tag.',
      { PartNumber: String(partNumber) },
    ),
  invalidPartOrder: () =>
    new OssError('InvalidPartOrder', 400, 'The list of parts was not in ascending order. Parts must be ordered by part number.'),
  entityTooSmall: (partNumber: number) =>
    new OssError('EntityTooSmall', 400, 'Your proposed upload smaller than the minimum allowed size.', {
      PartNumber: String(partNumber),
      MinSizeAllowed: '102400',
    }),
  invalidRange: (range: string) =>
    new OssError('InvalidRange', 416, 'The requested range cannot be satisfied.', { RangeRequested: range }),
  positionNotEqualToLength: (length: number) =>
    new OssError('PositionNotEqualToLength', 409, 'Position is not equal to file length', {}, {
      'x-oss-next-append-position': String(length),
    }),
  objectNotAppendable: () => new OssError('ObjectNotAppendable', 409, 'The object is not appendable'),
  preconditionFailed: (condition: string) =>
    new OssError('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold.', {
      Condition: condition,
    }),
  missingContentLength: () =>
    new OssError('MissingContentLength', 411, 'You must provide the Content-Length HTTP header.'),
  methodNotAllowed: (method: string) =>
    new OssError('MethodNotAllowed', 405, 'The specified method is not allowed against this resource.', { Method: method }),
  notImplemented: (what: string) =>
    new OssError('NotImplemented', 501, `${what} is not implemented by this endpoint.`),
  internal: () => new OssError('InternalError', 500, 'We encountered an internal error. Please try again.'),
};
