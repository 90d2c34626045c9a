-- Signal charts and event annotations filter samples by time across all
-- routers; the primary key leads with router_id. A BRIN index serves such
-- ranges for almost no write cost, since samples arrive nearly in time
-- order. (On TimescaleDB the hypertable's own time index does this.)
CREATE INDEX samples_time_brin ON samples USING brin (time);
