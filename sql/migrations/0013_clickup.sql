-- ClickUp sync (package sync/clickup): one task per router, the list's
-- custom-field ids, and the RMS device id the tasks show.

-- Shared with the RMS sync, which fills it; both migrations add it.
ALTER TABLE routers ADD COLUMN IF NOT EXISTS rms_id bigint;

-- One row per router that has (or is getting) a task. task_id is NULL
-- while a create was sent without its answer recorded (create_started_at
-- set): the next run looks the task up in the list before creating again.
-- written holds, per custom-field id (and "core" for name and status), a
-- hash of the value last written, recorded as each write succeeds;
-- change_hash is written only once all of a router's writes succeeded, so
-- an unchanged router costs no request and a failed one is finished later.
CREATE TABLE clickup_tasks (
    router_id               bigint PRIMARY KEY REFERENCES routers (id) ON DELETE CASCADE,
    list_id                 text NOT NULL,
    task_id                 text UNIQUE,
    create_started_at       timestamptz,
    change_hash             text,
    written                 jsonb NOT NULL DEFAULT '{}',
    last_operational_status text CHECK (last_operational_status IN ('online', 'offline')),
    last_property           text,
    synced_at               timestamptz,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    CHECK (task_id IS NOT NULL OR create_started_at IS NOT NULL OR change_hash IS NULL)
);

-- The custom fields of a list as last read from ClickUp, shared by the
-- instances; discovered again when older than the job's field TTL, when a
-- configured name is missing, or when a write says a field is gone.
CREATE TABLE clickup_field_cache (
    list_id       text PRIMARY KEY,
    fields        jsonb NOT NULL,
    discovered_at timestamptz NOT NULL
);

-- clickup_task_sync is each router's task for SQL and Grafana; pending is
-- true until the task's first complete sync (a create not yet answered, or
-- a found task whose fields are not all written).
CREATE VIEW clickup_task_sync AS
SELECT r.serial, r.name, t.list_id, t.task_id, t.synced_at,
       t.last_operational_status AS last_status, t.last_property AS property,
       t.change_hash IS NULL AS pending
FROM clickup_tasks t
JOIN routers r ON r.id = t.router_id;

GRANT SELECT ON clickup_task_sync TO routerlogger_reader;
