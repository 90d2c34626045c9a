package main

import (
	"context"
	"fmt"

	"github.com/routerlogger/routerlogger/internal/db"
	"github.com/routerlogger/routerlogger/internal/jobs"
)

func init() {
	commands["migrate"] = command{"apply the database schema (also done by serve)", runMigrate}
}

func runMigrate(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "migrate", "migrate [flags]")
	url := f.databaseURL()
	timescale := f.cfg.Enum("timescale", envs("TIMESCALE"), db.TimescaleAuto,
		[]string{db.TimescaleAuto, db.TimescaleOn, db.TimescaleOff},
		"use TimescaleDB for a new database: auto, on or off")
	create := f.cfg.Bool("create-database", envs("CREATE_DATABASE"), true,
		"create the database when it does not exist")
	if err := f.parse(args); err != nil {
		return err
	}

	pool, err := openPool(ctx, *url, 2, *create)
	if err != nil {
		return err
	}
	defer pool.Close()
	mode, err := db.Migrate(ctx, pool, f.logger(), *timescale)
	if err != nil {
		return err
	}
	if err := jobs.Migrate(ctx, pool); err != nil {
		return err
	}
	st, err := db.Check(ctx, pool)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "schema version %d (%s)\n", st.Current, mode)
	return nil
}
