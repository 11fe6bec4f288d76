/** Errors raised by devices, whatever the protocol or the implementation behind them. */
import { DarkroomError } from '../util/errors.js';

export type DeviceErrorKind = 'invalid-value' | 'invalid-operation' | 'not-implemented' | 'not-connected';

/** Error from a device: DarkroomError with code BAD_ARGUMENT (invalid value), UNSUPPORTED (not implemented) or IO (invalid operation, not connected). */
export class DeviceError extends DarkroomError {
  constructor(
    readonly kindOf: DeviceErrorKind,
    message: string,
    file?: string,
  ) {
    super(kindOf === 'invalid-value' ? 'BAD_ARGUMENT' : kindOf === 'not-implemented' ? 'UNSUPPORTED' : 'IO', message, file);
  }
}
