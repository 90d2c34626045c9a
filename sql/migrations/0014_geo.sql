-- Cell geolocation (package sync/geo): a cache of what the provider said
-- about each serving cell, and each router's location history, which gets
-- a row only when the router moved farther than the threshold (500 m by
-- default) from its last recorded location.

-- geo_cells caches one provider answer per cell: found with a position,
-- or not found (an unknown cell, kept so it is not asked again at once).
-- area is the LAC (gsm, umts) or the TAC (lte, nr). A row is fresh for a
-- configured time after looked_up_at (30 days found, 7 days not found by
-- default); a stale row is looked up again and overwritten.
CREATE TABLE geo_cells (
    radio        text NOT NULL CHECK (radio IN ('gsm', 'umts', 'lte', 'nr')),
    mcc          text NOT NULL,
    mnc          text NOT NULL,
    area         bigint NOT NULL,
    cell_id      bigint NOT NULL,
    found        boolean NOT NULL,
    lat          double precision CHECK (lat BETWEEN -90 AND 90),
    lon          double precision CHECK (lon BETWEEN -180 AND 180),
    accuracy_m   integer,
    message      text,
    looked_up_at timestamptz NOT NULL,
    PRIMARY KEY (radio, mcc, mnc, area, cell_id),
    CHECK (found = (lat IS NOT NULL AND lon IS NOT NULL))
);

-- router_locations is the history: observed_at is the time of the
-- telemetry reading that reported the cell, moved_m the distance from the
-- router's previous row (NULL for its first).
CREATE TABLE router_locations (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    router_id   bigint NOT NULL REFERENCES routers (id),
    observed_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    lat         double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon         double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
    accuracy_m  integer,
    moved_m     double precision,
    radio       text NOT NULL,
    mcc         text NOT NULL,
    mnc         text NOT NULL,
    area        bigint NOT NULL,
    cell_id     bigint NOT NULL
);

CREATE INDEX router_locations_router ON router_locations (router_id, observed_at DESC, id DESC);

-- router_location_current is where each located router is now, and since
-- when (the reading that first put it there).
CREATE VIEW router_location_current AS
SELECT DISTINCT ON (l.router_id)
       r.serial, r.name, l.lat, l.lon, l.accuracy_m, l.observed_at AS since,
       l.router_id, l.radio, l.mcc, l.mnc, l.area, l.cell_id
FROM router_locations l
JOIN routers r ON r.id = l.router_id
ORDER BY l.router_id, l.observed_at DESC, l.id DESC;

-- router_location_history is every recorded move.
CREATE VIEW router_location_history AS
SELECT r.serial, r.name, l.observed_at, l.lat, l.lon, l.accuracy_m, l.moved_m,
       l.router_id, l.radio, l.mcc, l.mnc, l.area, l.cell_id
FROM router_locations l
JOIN routers r ON r.id = l.router_id;

GRANT SELECT ON router_location_current, router_location_history TO routerlogger_reader;
