-- Properties (the sites routers are installed at) with a history of which
-- router served which property, and the log of duplicate-router merges.
-- Assignments are written by internal/fleet (CLI `property assign`, the
-- ClickUp sync); merges by ingest/merge (CLI `router merge`).

-- btree_gist lets one exclusion constraint combine router_id (=) with a
-- time range (&&). It ships with PostgreSQL's contrib package.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE properties (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL UNIQUE CHECK (btrim(name) <> ''),
    address    text,
    notes      text,
    clickup_id text UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- One row per period a router served a property: [valid_from, valid_to),
-- valid_to NULL while it still does. The database refuses two periods of
-- one router that overlap, whoever writes them.
CREATE TABLE router_properties (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    router_id   bigint NOT NULL REFERENCES routers (id),
    property_id bigint NOT NULL REFERENCES properties (id),
    valid_from  timestamptz NOT NULL,
    valid_to    timestamptz CHECK (valid_to > valid_from),
    source      text NOT NULL CHECK (source <> ''),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT router_properties_no_overlap EXCLUDE USING gist (
        router_id WITH =,
        tstzrange(valid_from, valid_to, '[)') WITH &&
    )
);

CREATE INDEX router_properties_property ON router_properties (property_id);

COMMENT ON COLUMN router_properties.valid_to IS 'end of the period, exclusive; NULL while current';
COMMENT ON COLUMN router_properties.source IS 'who set it: cli, clickup, merge, ...';

-- Every merge of a duplicate router row into the row kept. dup_serial
-- stays known: the writer maps readings still sent under it to the
-- keeper instead of registering the serial again.
CREATE TABLE router_merges (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    keep_router_id  bigint NOT NULL REFERENCES routers (id),
    keep_serial     text NOT NULL,
    dup_router_id   bigint NOT NULL,
    dup_serial      text NOT NULL,
    matched_by      text NOT NULL CHECK (matched_by IN ('imei', 'serial', 'lan_mac')),
    matched_value   text NOT NULL,
    samples_moved   bigint NOT NULL,
    samples_dropped bigint NOT NULL,
    rows_moved      jsonb NOT NULL DEFAULT '{}',
    merged_at       timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX router_merges_dup_serial ON router_merges (dup_serial);

COMMENT ON COLUMN router_merges.dup_router_id IS 'id of the deleted row; references nothing';
COMMENT ON COLUMN router_merges.rows_moved IS
    'rows repointed (or dropped as conflicts) per table.column, as the merge found them';

CREATE VIEW router_property_history AS
SELECT r.serial, r.name, p.name AS property, a.valid_from, a.valid_to, a.source
FROM router_properties a
JOIN routers r ON r.id = a.router_id
JOIN properties p ON p.id = a.property_id;

CREATE VIEW router_properties_current AS
SELECT r.serial, r.name, p.name AS property, a.valid_from AS since
FROM router_properties a
JOIN routers r ON r.id = a.router_id
JOIN properties p ON p.id = a.property_id
WHERE a.valid_from <= now() AND (a.valid_to IS NULL OR a.valid_to > now());

GRANT SELECT ON router_property_history, router_properties_current TO routerlogger_reader;
