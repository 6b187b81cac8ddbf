// The collector's HTTP server: JSON API under /api/v1, Prometheus /metrics, and the dashboard at /.
// Binds loopback by default; on any other address it refuses to start without a bearer token,
// and with a token every route must be given it except the dashboard's static files (they hold
// no data, so the page can load and then ask for the token): see access.ts.
import Fastify, { type FastifyError, type FastifyInstance } from "fastify";
import { GputelError } from "../../shared/errors.js";
import type { Logger } from "../../shared/logger.js";
import { registerDashboard } from "../dashboard/routes.js";
import { PROMETHEUS_CONTENT_TYPE, renderMetrics } from "../exposition/prometheus.js";
import type { LeaseService } from "../leases/service.js";
import { ApiError } from "../request/errors.js";
import { isStoreBusy } from "../store/busy.js";
import { installAccessControl, PUBLIC_ROUTE, type TokenLookup } from "./access.js";
import { isLoopbackHost } from "./auth.js";
import type { QueryBackend } from "./backend.js";
import { installCompression } from "./compress.js";
import { registerExportRoute } from "./export-route.js";
import type { FanOutContext } from "./fanout.js";
import { registerFanoutRoutes } from "./fanout-routes.js";
import { registerHealthRoutes } from "./health-routes.js";
import { registerLeaseReportRoutes } from "./lease-report-routes.js";
import { registerLeaseRoutes } from "./lease-routes.js";
import { registerProcessRoutes } from "./process-routes.js";
import { registerApiRoutes } from "./routes.js";
import { registerSalesRoutes } from "./sales-routes.js";
import { schemas } from "./schemas.js";
import { registerTenantRoutes } from "./tenant-routes.js";
import { registerWhoamiRoute } from "./whoami-route.js";

/** A write refused as store_busy is worth retrying this many seconds on (Retry-After). */
const STORE_BUSY_RETRY_AFTER_S = 1;

export interface ApiServerOptions {
  backend: QueryBackend;
  listen: { host: string; port: number };
  token?: string;
  logger: Logger;
  /** Host names accepted besides loopback ones when there is no token (http.allowed_hosts). */
  allowedHosts?: readonly string[];
  /** Other collectors' base URLs: summary, gpus, flags, a GPU's series and health timeline, the process routes and every fleet and lease report merge their answers (collector/fanout). */
  peers?: string[];
  /** Lease administration (/api/v1/leases); without it those routes answer 501. */
  leases?: LeaseService;
  /** Stored role tokens (admin, viewer, tenant:NAME) besides `token` (admin). */
  tokens?: TokenLookup;
}

export interface ApiServer {
  start(): Promise<{ port: number }>;
  stop(): Promise<void>;
}

export function createApiServer(options: ApiServerOptions): ApiServer {
  let app: FastifyInstance | undefined;
  const log = options.logger.child({ component: "collector.api" });
  return {
    async start() {
      const { host, port } = options.listen;
      const token = options.token !== undefined && options.token !== "" ? options.token : undefined;
      if (!isLoopbackHost(host) && token === undefined) {
        throw new GputelError(
          "GPUTEL_E_CONFIG",
          `http.listen ${host || "*"}:${port} is not a loopback address: a bearer token is required (http.token_file)`,
          { host, port },
        );
      }
      const peers = options.peers ?? [];
      // Peers are the same fleet: they are asked with this collector's own token.
      const fanout = peers.length > 0 ? { peers, ...(token !== undefined ? { token } : {}) } : undefined;
      app = buildApp(options.backend, token, log, fanout, {
        allowedHosts: options.allowedHosts ?? [],
        ...(options.tokens ? { tokens: options.tokens } : {}),
        ...(options.leases ? { leases: options.leases } : {}),
      });
      try {
        await app.listen({ host: host === "" ? "0.0.0.0" : host, port });
      } catch (error) {
        // Port in use, say: nothing of this server may outlive the failed start.
        await app.close();
        app = undefined;
        throw error;
      }
      const address = app.server.address();
      const bound = typeof address === "object" && address ? address.port : port;
      log.info({ host, port: bound, auth: token !== undefined, peers }, "HTTP API listening");
      return { port: bound };
    },
    async stop() {
      await app?.close();
      app = undefined;
    },
  };
}

/** The Fastify app without listening (tests may inject requests into it). */
export function buildApp(
  backend: QueryBackend,
  token: string | undefined,
  log: Logger,
  fanout?: FanOutContext,
  access: { allowedHosts?: readonly string[]; tokens?: TokenLookup; leases?: LeaseService } = {},
): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: 4096,
    connectionTimeout: 30_000,
    requestTimeout: 30_000,
    keepAliveTimeout: 5_000,
    routerOptions: { maxParamLength: 200 },
    return503OnClosing: true,
    // Unknown parameters must fail, not be dropped silently (Fastify's default removes them).
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, allErrors: false } },
  });

  installAccessControl(app, {
    token,
    allowedHosts: access.allowedHosts ?? [],
    ...(access.tokens ? { tokens: access.tokens } : {}),
  });
  installCompression(app);

  app.setErrorHandler((error: FastifyError | ApiError, req, reply) => {
    if (error instanceof ApiError) {
      return reply
        .code(error.statusCode)
        .send({ error: error.error, parameter: error.parameter, message: error.message, ...error.extra });
    }
    if (error.validation && error.validation.length > 0) {
      const v = error.validation[0];
      const p = v?.params as Record<string, unknown> | undefined;
      const parameter =
        (p?.additionalProperty as string | undefined) ??
        (p?.missingProperty as string | undefined) ??
        (v?.instancePath ?? "").replace(/^\//, "");
      const message =
        p?.additionalProperty !== undefined
          ? `unknown parameter ${JSON.stringify(parameter)} (${error.validationContext ?? "query"})`
          : `${parameter} ${v?.message ?? "is invalid"}`;
      return reply.code(400).send({ error: "bad_request", parameter, message });
    }
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.code(error.statusCode).send({ error: "bad_request", message: error.message });
    }
    if (isStoreBusy(error)) {
      // Another process holds the database's write lock; the write waited briefly and changed nothing.
      return reply.code(503).header("retry-after", String(STORE_BUSY_RETRY_AFTER_S)).send({
        error: "store_busy",
        message:
          "the database is locked by another process (a sqlite3 shell, a backup, gputel export); nothing was changed: try again shortly",
      });
    }
    log.error({ code: "GPUTEL_E_API", err: error.message, url: req.url }, "API request failed");
    return reply
      .code(500)
      .send({ error: "internal", message: "the request failed; see the collector's log (GPUTEL_E_API)" });
  });

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ error: "not_found", message: `no route ${req.method} ${req.url.split("?")[0]}` });
  });

  registerApiRoutes(app, backend, fanout, access.leases);
  registerFanoutRoutes(app, backend, access.leases);
  registerLeaseRoutes(app, access.leases);
  registerExportRoute(app, backend, log);
  registerHealthRoutes(app, backend, access.leases, fanout);
  registerLeaseReportRoutes(app, backend, fanout, access.leases);
  registerSalesRoutes(app, backend, fanout?.peers ?? []);
  registerProcessRoutes(app, backend, access.leases, fanout);
  registerTenantRoutes(app, backend, access.leases, fanout);
  registerWhoamiRoute(app);
  app.get("/metrics", { schema: schemas.metrics }, async (_req, reply) => {
    reply.header("content-type", PROMETHEUS_CONTENT_TYPE);
    return renderMetrics(backend.metricsSnapshot(), backend.now());
  });
  registerDashboard(app, PUBLIC_ROUTE);
  return app;
}
