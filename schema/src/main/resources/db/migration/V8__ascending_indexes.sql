-- The "newest first" indexes again, ascending. Rows arrive in time order, and V1 built these
-- indexes DESC, so every new entry went to the left end of its account's (or key's) range: each
-- full leaf page there split in half and kept only half its room, and the indexes grew to twice
-- the size (800 pages against 445 for 60k ledger entries, measured) and cost the settling batch a
-- sixth more of PostgreSQL's CPU. Ascending, new entries append at the right end, where a full page
-- splits 90/10. Reads are unchanged: "ORDER BY ... DESC LIMIT n" walks the same index backwards.
--
-- CONCURRENTLY, so that an upgrade never blocks the settling of requests while a large request
-- log is indexed (Flyway runs such a script outside a transaction). Should the build be cut off,
-- the half-built index is left INVALID: drop it and migrate again.
CREATE INDEX CONCURRENTLY ledger_account_seq ON ledger (account_id, seq);
DROP INDEX CONCURRENTLY IF EXISTS ledger_account;
CREATE INDEX CONCURRENTLY request_log_account_time ON request_log (account_id, created_at);
DROP INDEX CONCURRENTLY IF EXISTS request_log_account;
CREATE INDEX CONCURRENTLY request_log_key_time ON request_log (key_id, created_at);
DROP INDEX CONCURRENTLY IF EXISTS request_log_key;
