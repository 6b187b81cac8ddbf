-- Who acknowledged a flag (the principal of the request: `http.token`, `loopback`, a stored
-- token's actor), repeated on the peers' copies of the episode when the acknowledgement is
-- forwarded (collector/api/fanout-ack.ts). Acknowledgements recorded before know none ('').
ALTER TABLE flag_acks ADD COLUMN actor TEXT NOT NULL DEFAULT '';
