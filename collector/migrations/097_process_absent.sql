-- Why a process session's fields are absent (issue 17): the agent's ProcessRecord.absent as the
-- collector checked it, from the session's newest set, as a JSON array of {field, reason, why}
-- ("sm", "unsupported", "pmon does not report on this GPU"): an SM share of NULL then says why.
-- Sessions stored before this know none.
ALTER TABLE process_sessions ADD COLUMN absent TEXT NOT NULL DEFAULT '[]';
