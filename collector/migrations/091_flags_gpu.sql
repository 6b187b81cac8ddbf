-- Flag episodes by GPU and by host, in time order (collector/store/flag-store.ts, `within`): a
-- tenant's statement reads only its leased GPUs' flags and their hosts' offline and stale ones,
-- a seek per GPU and host, instead of the fleet's whole month of flags. (host, start_ms) serves
-- every query flags_host served.
CREATE INDEX IF NOT EXISTS flags_gpu_start ON flags (gpu_uuid, start_ms);
CREATE INDEX IF NOT EXISTS flags_host_start ON flags (host, start_ms);
DROP INDEX IF EXISTS flags_host;
