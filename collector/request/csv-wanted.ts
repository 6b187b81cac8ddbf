// Whether a report request asks for CSV: `?format=` decides when given; otherwise an Accept
// header naming text/csv before (or without) application/json. One rule for every report route.

export function wantsCsv(format: string | undefined, accept: string | undefined): boolean {
  if (format !== undefined) return format === "csv";
  if (!accept) return false;
  const csvAt = accept.indexOf("text/csv");
  const jsonAt = accept.indexOf("application/json");
  return csvAt >= 0 && (jsonAt < 0 || csvAt < jsonAt);
}
