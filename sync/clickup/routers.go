package clickup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"
)

// Operational statuses of a router.
const (
	StatusOnline  = "online"
	StatusOffline = "offline"
)

// statusOption names the drop-down option of each status.
var statusOption = map[string]string{StatusOnline: "Online", StatusOffline: "Offline"}

// router is what the sync reads of one router.
type router struct {
	ID       int64
	Serial   string
	Name     string
	Model    string
	Firmware string
	IMEI     string
	MAC      string
	RMSID    *int64
	LastSeen *time.Time
	// UsedToday is today's tx + rx bytes (UTC day).
	UsedToday int64
}

// routers returns up to limit routers with an id above after, in id order.
func (s *store) routers(ctx context.Context, after int64, day time.Time, limit int) ([]router, error) {
	rows, err := s.db.Query(ctx, `
		SELECT r.id, r.serial, coalesce(r.name, ''), coalesce(r.model, ''),
		       coalesce(r.firmware, ''), coalesce(r.imei, ''), coalesce(r.lan_mac, ''), r.rms_id,
		       coalesce(st.time, r.last_seen),
		       coalesce((SELECT sum(u.total_bytes) FROM router_usage_daily u
		                 WHERE u.serial = r.serial AND u.bucket >= $2
		                   AND u.bucket < $2 + interval '1 day'), 0)::bigint
		FROM routers r
		LEFT JOIN router_status st ON st.router_id = r.id
		WHERE r.id > $1
		ORDER BY r.id
		LIMIT $3`, after, day, limit)
	if err != nil {
		return nil, fmt.Errorf("read routers: %w", err)
	}
	defer rows.Close()

	var out []router
	for rows.Next() {
		var r router
		if err := rows.Scan(&r.ID, &r.Serial, &r.Name, &r.Model, &r.Firmware, &r.IMEI, &r.MAC,
			&r.RMSID, &r.LastSeen, &r.UsedToday); err != nil {
			return nil, fmt.Errorf("read routers: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read routers: %w", err)
	}
	return out, nil
}

// write is one custom-field value to hold on a task.
type write struct {
	key   string
	field Field
	value any
	opts  *ValueOptions
}

// hash is the hash of the write's field and value.
func (w write) hash() string {
	return hashOf(w.field.ID, w.value, w.opts)
}

// desired is what a router's task should hold.
type desired struct {
	core   TaskUpdate
	status string
	writes []write
	// hash covers all of the above: equal hashes mean nothing to write.
	hash string
}

// want computes router r's task at now.
func (j *Job) want(r router, fs fieldSet, now time.Time) desired {
	d := desired{core: TaskUpdate{Name: taskName(r), Status: j.cfg.TaskStatus}}
	d.status = StatusOffline
	if r.LastSeen != nil && now.Sub(*r.LastSeen) <= j.cfg.OfflineAfter {
		d.status = StatusOnline
	}

	values := map[string]any{
		FieldMAC: r.MAC, FieldIMEI: r.IMEI, FieldSerial: r.Serial, FieldFirmware: r.Firmware,
		FieldDataToday: math.Round(float64(r.UsedToday)/1e5) / 10, // decimal MB, 0.1 MB
		FieldDashboard: j.dashboardURL(r.Serial),
	}
	if r.RMSID != nil {
		values[FieldRMSID] = *r.RMSID
	}
	if r.LastSeen != nil {
		values[FieldLastSeen] = r.LastSeen.UnixMilli()
	}
	if f, ok := fs.byKey[FieldStatus]; ok {
		if id := optionID(f, statusOption[d.status]); id != "" {
			values[FieldStatus] = id
		}
	}

	for _, key := range writeOrder {
		f, ok := fs.byKey[key]
		v, has := values[key]
		if !ok || !has || v == "" {
			continue // no such field, or nothing known: leave the task's value alone
		}
		w := write{key: key, field: f, value: v}
		if key == FieldLastSeen {
			w.opts = &ValueOptions{Time: true}
		}
		d.writes = append(d.writes, w)
	}

	parts := []any{d.core, d.status}
	for _, w := range d.writes {
		parts = append(parts, w.hash())
	}
	d.hash = hashOf(parts...)
	return d
}

// taskName is "name (model)", as the list's tasks are named.
func taskName(r router) string {
	name := cmpOr(r.Name, r.Serial)
	if r.Model == "" {
		return name
	}
	return name + " (" + r.Model + ")"
}

// dashboardURL links the router-detail dashboard for serial; "" when no
// Grafana URL is configured.
func (j *Job) dashboardURL(serial string) string {
	if j.cfg.GrafanaURL == "" || j.cfg.DashboardUID == "" {
		return ""
	}
	return strings.TrimRight(j.cfg.GrafanaURL, "/") + "/d/" + url.PathEscape(j.cfg.DashboardUID) +
		"?var-router=" + url.QueryEscape(serial)
}

// optionID returns the id of f's drop-down option named name
// (case-insensitively).
func optionID(f Field, name string) string {
	for _, o := range f.TypeConfig.Options {
		if strings.EqualFold(strings.TrimSpace(o.Name), name) {
			return o.ID
		}
	}
	return ""
}

// hashOf hashes the JSON of parts.
func hashOf(parts ...any) string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	for _, p := range parts {
		_ = enc.Encode(p) // plain values: cannot fail
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
