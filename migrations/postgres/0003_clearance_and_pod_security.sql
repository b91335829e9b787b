-- What a role may put into member clusters (domain/src/policy.rs).
--
-- Each revision records the clearance its author had where the resource lives (`edit`,
-- `admin`, `tenant_admin`): the engine checks every rendered object against it again before
-- writing. Revisions saved before this column existed are trusted no further than an editor,
-- except those Flotilla's own reconcilers wrote (the access bindings), which were written
-- by the system; a tenant admin saves the others again to restore what needs more.
ALTER TABLE resource_revisions ADD COLUMN clearance TEXT NOT NULL DEFAULT 'edit';

DROP TRIGGER resource_revisions_are_immutable ON resource_revisions;
UPDATE resource_revisions SET clearance = 'tenant_admin' WHERE author_id IS NULL AND author_name LIKE 'flotilla (%';
CREATE TRIGGER resource_revisions_are_immutable
BEFORE UPDATE ON resource_revisions
FOR EACH ROW EXECUTE FUNCTION refuse_update('resource revisions are immutable');

-- A project namespace's Pod Security Standard: `restricted`, `baseline` or `privileged`.
ALTER TABLE projects ADD COLUMN pod_security TEXT NOT NULL DEFAULT 'baseline';
