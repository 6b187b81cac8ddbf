// Whether a report request asks for CSV: `?format=` decides when given; otherwise an Accept
// header naming text/csv before (or without) application/json. One rule for every report route,
// and one way each answers it (csvAnswer).
import type { FastifyReply } from "fastify";

export function wantsCsv(format: string | undefined, accept: string | undefined): boolean {
  if (format !== undefined) return format === "csv";
  if (!accept) return false;
  const csvAt = accept.indexOf("text/csv");
  const jsonAt = accept.indexOf("application/json");
  return csvAt >= 0 && (jsonAt < 0 || csvAt < jsonAt);
}

/** The CSV answer: its content type and attachment name set on `reply`, the body to return. */
export function csvAnswer(reply: FastifyReply, fileName: string, body: string): string {
  void reply.header("content-type", "text/csv; charset=utf-8");
  void reply.header("content-disposition", `attachment; filename="${fileName}"`);
  return body;
}
