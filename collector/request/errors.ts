// A refused request: HTTP status, a stable error word, the parameter or field at fault and a
// message; the API server turns it into a JSON body. A leaf module, so the API and the modules
// behind it (leases, reports) can all throw it without importing each other.

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly error: string,
    readonly parameter: string | undefined,
    message: string,
    /** More fields for the JSON body (e.g. the conflicting lease's id). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export function badParam(parameter: string, message: string): ApiError {
  return new ApiError(400, "bad_request", parameter, message);
}
