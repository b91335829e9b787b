-- A project being deleted: hidden from every list and unreachable by id at once, while the
-- engine removes its resources from the members (or leaves them, by the deletion's policy);
-- the row goes with its last resource, and its name is free again from then on.
ALTER TABLE projects ADD COLUMN deleted_at BIGINT;
