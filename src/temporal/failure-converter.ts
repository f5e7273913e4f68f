// Loaded by path (DataConverter.failureConverterPath) in clients, workers and the workflow sandbox alike.
// Failure messages and stack traces move into an encoded payload, so the payload codec encrypts them with
// everything else: without the codec a failure in history reads "Encoded failure".
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
