-- GPU ownership (issue 13): a GPU belongs to the host that reports it until it really moves.
-- The UUIDs of each host's latest inventory (JSON array; NULL until it sends one): a GPU no
-- longer listed there may move to another host.
ALTER TABLE hosts ADD COLUMN inventory_uuids TEXT;
-- Why an inventory row's host changed: not_in_owner_inventory, owner_gone or approved.
ALTER TABLE gpu_inventory ADD COLUMN move_reason TEXT;
-- Moves an operator approved (`gputel collector approve-move`), consumed when the move happens.
CREATE TABLE gpu_move_approvals (
  uuid TEXT PRIMARY KEY,
  to_host TEXT NOT NULL,
  approved_ms INTEGER NOT NULL
) WITHOUT ROWID;
