-- A workspace being deleted: hidden from every list and unreachable by id at once, with its
-- projects (deleted as one), while the engine removes their resources from the members (or
-- leaves them, by the deletion's policy); the row goes with its last project and resource,
-- and its name is free again from then on.
ALTER TABLE workspaces ADD COLUMN deleted_at BIGINT;
