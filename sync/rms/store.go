package rms

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routerlogger/routerlogger/internal/mac"
)

// store writes what the sync learns to PostgreSQL.
type store struct {
	db *pgxpool.Pool
}

// routerRow is the inventory of a router that RMS may fill; "" and zero
// stand for NULL.
type routerRow struct {
	id                        int64
	rmsID                     int64
	name, model, imei, iccid  string
	lanMAC, wlanMAC, firmware string
	firmwareSeenAt            time.Time
}

const routerColumns = `id, coalesce(rms_id, 0), coalesce(name, ''), coalesce(model, ''),
	coalesce(imei, ''), coalesce(iccid, ''), coalesce(lan_mac, ''), coalesce(wlan_mac, ''),
	coalesce(firmware, ''), firmware_seen_at`

// upsertDevice matches d to a router (RMS id, serial, IMEI, LAN MAC; never
// name), creates one under d's serial when none matches, fills what RMS
// owns and stores RMS's view in rms_devices, in one transaction. changed
// is false when nothing differed and nothing was written.
func (s *store) upsertDevice(ctx context.Context, d Device) (id int64, changed bool, err error) {
	lan, wlan, err := deviceMACs(d)
	if err != nil {
		return 0, false, err
	}

	err = pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		cur, err := matchRouter(ctx, tx, d, lan)
		if err != nil {
			return err
		}
		id = cur.id

		next := merge(cur, d, lan, wlan)
		if next != cur {
			if err := updateRouter(ctx, tx, next); err != nil {
				return err
			}
			changed = true
		}

		seen, err := upsertRMSDevice(ctx, tx, cur.id, d)
		changed = changed || seen
		return err
	})
	return id, changed, err
}

// deviceMACs returns d's MACs in canonical form ("" when absent).
func deviceMACs(d Device) (lan, wlan string, err error) {
	if d.MAC != "" {
		if lan, err = mac.Parse(string(d.MAC)); err != nil {
			return "", "", fmt.Errorf("mac %q: %w", d.MAC, err)
		}
	}
	if d.WLANMAC != "" {
		if wlan, err = mac.Parse(string(d.WLANMAC)); err != nil {
			return "", "", fmt.Errorf("wlan_mac %q: %w", d.WLANMAC, err)
		}
	}
	return lan, wlan, nil
}

// matchRouter locks the router d belongs to, creating it under d's serial
// when none matches.
func matchRouter(ctx context.Context, tx pgx.Tx, d Device, lan string) (routerRow, error) {
	keys := []struct {
		column string
		value  any
		ok     bool
	}{
		{"rms_id", d.ID, d.ID != 0},
		{"serial", string(d.Serial), d.Serial != ""},
		{"imei", string(d.IMEI), d.IMEI != ""},
		{"lan_mac", lan, lan != ""},
	}
	for _, k := range keys {
		if !k.ok {
			continue
		}
		r, found, err := lockRouter(ctx, tx, k.column, k.value)
		if err != nil || found {
			return r, err
		}
	}

	if d.Serial == "" {
		return routerRow{}, errors.New("no router matches and RMS gave no serial to create one")
	}
	if _, err := tx.Exec(ctx, `INSERT INTO routers (serial) VALUES ($1) ON CONFLICT (serial) DO NOTHING`,
		string(d.Serial)); err != nil {
		return routerRow{}, fmt.Errorf("create router: %w", err)
	}
	r, _, err := lockRouter(ctx, tx, "serial", string(d.Serial))
	return r, err
}

// lockRouter selects and locks the router whose column equals value.
func lockRouter(ctx context.Context, tx pgx.Tx, column string, value any) (routerRow, bool, error) {
	var r routerRow
	var seen *time.Time
	err := tx.QueryRow(ctx, `SELECT `+routerColumns+` FROM routers WHERE `+column+` = $1
		ORDER BY id LIMIT 1 FOR UPDATE`, value).Scan(&r.id, &r.rmsID, &r.name, &r.model, &r.imei,
		&r.iccid, &r.lanMAC, &r.wlanMAC, &r.firmware, &seen)
	if errors.Is(err, pgx.ErrNoRows) {
		return routerRow{}, false, nil
	}
	if err != nil {
		return routerRow{}, false, fmt.Errorf("find router by %s: %w", column, err)
	}
	if seen != nil {
		r.firmwareSeenAt = seen.UTC()
	}
	return r, true, nil
}

// merge applies RMS's rules to a router: RMS owns the RMS id, model, IMEI
// and MACs; it names a router and gives its ICCID only where nothing did;
// its firmware wins only when its observation (last connection) is newer
// than the stored one.
func merge(cur routerRow, d Device, lan, wlan string) routerRow {
	next := cur
	next.rmsID = d.ID
	for _, f := range []struct {
		dst *string
		src string
	}{{&next.model, string(d.Model)}, {&next.imei, string(d.IMEI)}, {&next.lanMAC, lan},
		{&next.wlanMAC, wlan}} {
		if f.src != "" {
			*f.dst = f.src
		}
	}
	if next.name == "" {
		next.name = string(d.Name)
	}
	if next.iccid == "" {
		next.iccid = string(d.ICCID)
	}

	seen := d.LastConnection()
	switch {
	case d.Firmware == "":
	case !seen.IsZero() && (cur.firmwareSeenAt.IsZero() || seen.After(cur.firmwareSeenAt)):
		next.firmware, next.firmwareSeenAt = string(d.Firmware), seen
	case cur.firmware == "":
		next.firmware = string(d.Firmware)
	}
	return next
}

func updateRouter(ctx context.Context, tx pgx.Tx, r routerRow) error {
	var seen *time.Time
	if !r.firmwareSeenAt.IsZero() {
		seen = &r.firmwareSeenAt
	}
	_, err := tx.Exec(ctx, `UPDATE routers SET rms_id = nullif($2, 0), name = nullif($3, ''),
		model = nullif($4, ''), imei = nullif($5, ''), iccid = nullif($6, ''),
		lan_mac = nullif($7, ''), wlan_mac = nullif($8, ''), firmware = nullif($9, ''),
		firmware_seen_at = $10
		WHERE id = $1`, r.id, r.rmsID, r.name, r.model, r.imei, r.iccid, r.lanMAC, r.wlanMAC,
		r.firmware, seen)
	if err != nil {
		return fmt.Errorf("update router %d: %w", r.id, err)
	}
	return nil
}

// upsertRMSDevice stores RMS's view of the router; it reports whether the
// row was written (new or different).
func upsertRMSDevice(ctx context.Context, tx pgx.Tx, routerID int64, d Device) (bool, error) {
	var lac, cell *int64
	if l, c, ok := d.Cell(); ok {
		lac, cell = &l, &c
	}
	var last *time.Time
	if t := d.LastConnection(); !t.IsZero() {
		last = &t
	}
	ct, err := tx.Exec(ctx, `
		INSERT INTO rms_devices AS d (router_id, rms_id, serial, name, status, firmware, mcc, mnc,
			lac, cell_id, operator, connection_type, last_connection_at)
		VALUES ($1, $2, nullif($3, ''), nullif($4, ''), $5, nullif($6, ''), nullif($7, ''),
			nullif($8, ''), $9, $10, nullif($11, ''), nullif($12, ''), $13)
		ON CONFLICT (router_id) DO UPDATE SET
			rms_id = EXCLUDED.rms_id, serial = EXCLUDED.serial, name = EXCLUDED.name,
			status = EXCLUDED.status, firmware = EXCLUDED.firmware, mcc = EXCLUDED.mcc,
			mnc = EXCLUDED.mnc, lac = EXCLUDED.lac, cell_id = EXCLUDED.cell_id,
			operator = EXCLUDED.operator, connection_type = EXCLUDED.connection_type,
			last_connection_at = EXCLUDED.last_connection_at, changed_at = now()
		WHERE (d.rms_id, d.serial, d.name, d.status, d.firmware, d.mcc, d.mnc, d.lac, d.cell_id,
				d.operator, d.connection_type, d.last_connection_at)
			IS DISTINCT FROM (EXCLUDED.rms_id, EXCLUDED.serial, EXCLUDED.name, EXCLUDED.status,
				EXCLUDED.firmware, EXCLUDED.mcc, EXCLUDED.mnc, EXCLUDED.lac, EXCLUDED.cell_id,
				EXCLUDED.operator, EXCLUDED.connection_type, EXCLUDED.last_connection_at)`,
		routerID, d.ID, string(d.Serial), string(d.Name), d.StatusText(), string(d.Firmware),
		string(d.MCC), string(d.MNC), lac, cell, string(d.Operator), string(d.ConnectionType), last)
	if err != nil {
		return false, fmt.Errorf("store rms device: %w", err)
	}
	return ct.RowsAffected() > 0, nil
}

// storeUsage upserts a router's RMS daily usage.
func (s *store) storeUsage(ctx context.Context, routerID int64, days []DayUsage) error {
	if len(days) == 0 {
		return nil
	}
	day := make([]time.Time, len(days))
	tx, rx := make([]int64, len(days)), make([]int64, len(days))
	for i, u := range days {
		day[i], tx[i], rx[i] = u.Day, u.TxBytes, u.RxBytes
	}
	_, err := s.db.Exec(ctx, `
		INSERT INTO rms_usage_daily AS m (router_id, day, tx_bytes, rx_bytes)
		SELECT $1, d, t, r FROM unnest($2::date[], $3::bigint[], $4::bigint[]) AS u (d, t, r)
		ON CONFLICT (router_id, day) DO UPDATE SET
			tx_bytes = EXCLUDED.tx_bytes, rx_bytes = EXCLUDED.rx_bytes, fetched_at = now()`,
		routerID, day, tx, rx)
	if err != nil {
		return fmt.Errorf("store data usage: %w", err)
	}
	return nil
}
