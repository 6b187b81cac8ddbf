// Lease errors are API errors: status, a stable error word, the field at fault, a message, and
// for a conflict the id of the lease in the way. The CLI maps them to exit statuses.
import { ApiError } from "../request/errors.js";

export class LeaseError extends ApiError {}

export function conflictError(field: string, conflictId: string, message: string): LeaseError {
  return new LeaseError(409, "lease_conflict", field, message, { conflict: conflictId });
}

export function refused(field: string, message: string): LeaseError {
  return new LeaseError(409, "lease_locked", field, message);
}

export function leaseNotFound(id: string): LeaseError {
  return new LeaseError(404, "not_found", "id", `no lease ${JSON.stringify(id)}`);
}

export function unknownDevice(device: string): LeaseError {
  return new LeaseError(
    404,
    "unknown_device",
    "device",
    `no GPU or MIG device ${JSON.stringify(device)} is known to this collector (give the UUID of a GPU that has reported, or of a MIG device in its latest inventory)`,
  );
}
