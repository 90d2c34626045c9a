package clickup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/routerlogger/routerlogger/sync/syncrun"
)

// Keys of the synced custom fields; [Config.FieldNames] maps them to the
// names of the list's fields.
const (
	FieldMAC       = "mac"
	FieldIMEI      = "imei"
	FieldSerial    = "serial"
	FieldRMSID     = "rms_id"
	FieldFirmware  = "firmware"
	FieldLastSeen  = "last_seen"
	FieldDataToday = "data_today"
	FieldStatus    = "status"
	FieldDashboard = "dashboard"
	// FieldProperty is read, never written: its value assigns the router
	// to a property (see [PropertyAssigner]).
	FieldProperty = "property"
)

// DefaultFieldNames are the field names of a list set up as documented.
var DefaultFieldNames = map[string]string{
	FieldMAC:       "MAC Address",
	FieldIMEI:      "IMEI",
	FieldSerial:    "Serial Number",
	FieldRMSID:     "RMS Device ID",
	FieldFirmware:  "Firmware",
	FieldLastSeen:  "Last Seen",
	FieldDataToday: "Data Used Today (MB)",
	FieldStatus:    "Operational Status",
	FieldDashboard: "Router Dashboard",
	FieldProperty:  "Property",
}

// writeOrder is the order in which a task's fields are written.
var writeOrder = []string{
	FieldMAC, FieldIMEI, FieldSerial, FieldRMSID, FieldFirmware,
	FieldLastSeen, FieldDataToday, FieldStatus, FieldDashboard,
}

// fieldSet is the list's fields resolved by key.
type fieldSet struct {
	byKey map[string]Field
	// missing holds the names of synced fields the list lacks.
	missing []string
}

// resolve finds each named field in fields, by name, case-insensitively.
func resolve(fields []Field, names map[string]string) fieldSet {
	byName := make(map[string]Field, len(fields))
	for _, f := range fields {
		byName[strings.ToLower(strings.TrimSpace(f.Name))] = f
	}
	fs := fieldSet{byKey: map[string]Field{}}
	for _, key := range slices.Concat(writeOrder, []string{FieldProperty}) {
		name := names[key]
		if name == "" {
			continue // turned off
		}
		f, ok := byName[strings.ToLower(strings.TrimSpace(name))]
		switch {
		case ok:
			fs.byKey[key] = f
		case key != FieldProperty: // Property is optional
			fs.missing = append(fs.missing, name)
		}
	}
	return fs
}

// fields returns the list's fields: from the cache in the database when
// it is fresh and complete, else from ClickUp (retried with back-off),
// stored back for the other instances.
func (j *Job) fields(ctx context.Context, run *syncrun.Run, force bool) (fieldSet, error) {
	if !force {
		cached, at, err := j.store.cachedFields(ctx, j.cfg.ListID)
		if err != nil {
			return fieldSet{}, err
		}
		if cached != nil && j.cfg.Clock.Now().Sub(at) < j.cfg.FieldTTL {
			if fs := resolve(cached, j.names); len(fs.missing) == 0 {
				return fs, nil
			}
		}
	}

	fields, err := j.discover(ctx)
	if err != nil {
		return fieldSet{}, err
	}
	run.AddFetched(len(fields))
	if err := j.store.cacheFields(ctx, j.cfg.ListID, fields, j.cfg.Clock.Now()); err != nil {
		return fieldSet{}, err
	}
	fs := resolve(fields, j.names)
	j.log.Info("clickup fields discovered", "list", j.cfg.ListID, "fields", len(fields),
		"missing", fs.missing)
	return fs, nil
}

// discover reads the list's fields, retrying a failure that may pass
// (not an authorization error or a rate limit past the deadline) after
// 1 s, 2 s, 4 s….
func (j *Job) discover(ctx context.Context) ([]Field, error) {
	wait := j.cfg.DiscoveryBackoff
	var err error
	for attempt := 1; ; attempt++ {
		var fields []Field
		fields, err = j.client.Fields(ctx, j.cfg.ListID)
		if err == nil {
			return fields, nil
		}
		_, limited := RetryAfter(err)
		if IsAuth(err) || limited || attempt >= j.cfg.DiscoveryAttempts || ctx.Err() != nil {
			break
		}
		j.log.Warn("clickup field discovery failed; retrying", "attempt", attempt, "wait", wait,
			"error", err)
		if serr := j.cfg.Sleep(ctx, wait); serr != nil {
			break
		}
		wait *= 2
	}
	return nil, fmt.Errorf("discover fields of list %s: %w", j.cfg.ListID, err)
}

// cachedFields returns the cached fields of list and when they were read;
// nil when none are cached.
func (s *store) cachedFields(ctx context.Context, list string) ([]Field, time.Time, error) {
	var raw []byte
	var at time.Time
	err := s.db.QueryRow(ctx, `
		SELECT fields, discovered_at FROM clickup_field_cache WHERE list_id = $1`,
		list).Scan(&raw, &at)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, time.Time{}, nil
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("read field cache: %w", err)
	}
	var fields []Field
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, time.Time{}, nil // unreadable: discover again
	}
	return fields, at, nil
}

// cacheFields stores the fields of list read at at.
func (s *store) cacheFields(ctx context.Context, list string, fields []Field, at time.Time) error {
	raw, err := json.Marshal(fields)
	if err != nil {
		return fmt.Errorf("encode field cache: %w", err)
	}
	_, err = s.db.Exec(ctx, `
		INSERT INTO clickup_field_cache (list_id, fields, discovered_at) VALUES ($1, $2, $3)
		ON CONFLICT (list_id) DO UPDATE SET fields = EXCLUDED.fields,
			discovered_at = EXCLUDED.discovered_at`, list, raw, at)
	if err != nil {
		return fmt.Errorf("write field cache: %w", err)
	}
	return nil
}

// dropFieldCache forgets the cached fields of list, so the next look
// discovers them again (a field write answered that the field is gone).
func (s *store) dropFieldCache(ctx context.Context, list string) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM clickup_field_cache WHERE list_id = $1`, list); err != nil {
		return fmt.Errorf("drop field cache: %w", err)
	}
	return nil
}
