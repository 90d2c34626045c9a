package writer

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/routerlogger/routerlogger/ingest/reading"
	"github.com/routerlogger/routerlogger/ingest/samples"
	"github.com/routerlogger/routerlogger/internal/db"
)

// noteInventory merges what reading r says of its router into st.
func (t *txn) noteInventory(st *routerState, r *reading.Reading) {
	if !st.invSet {
		if ri, ok := t.w.routers.get(st.serial); ok {
			st.inv = ri.inventory
		}
		st.invSet = true
	}
	inv := &st.inv
	for _, f := range []struct {
		dst *string
		src string
	}{
		{&inv.name, r.Name}, {&inv.model, r.Model},
		{&inv.imei, r.IMEI}, {&inv.iccid, r.ICCID}, {&inv.mac, r.MAC}, {&inv.wlanMAC, r.WLANMAC},
	} {
		if f.src != "" {
			*f.dst = f.src
		}
	}
	// Firmware goes by reading time, not arrival: a late reading does not
	// bring back the firmware a newer one replaced.
	if r.Firmware != "" && !r.Time.Before(inv.fwAt) {
		inv.firmware, inv.fwAt = r.Firmware, r.Time
	}
	if r.CounterBits == 32 || r.CounterBits == 64 {
		inv.bits = r.CounterBits
	}
	m := r.Time.Truncate(time.Minute)
	if inv.first.IsZero() || m.Before(inv.first) {
		inv.first = m
	}
	if m.After(inv.last) {
		inv.last = m
	}
}

// finish writes everything the readings changed besides the samples. The
// rejects are copied; the other statements go to the server as one
// pipelined batch, so a small transaction pays one round trip for them
// instead of one each.
func (t *txn) finish(ctx context.Context) error {
	if err := t.writeRejects(ctx); err != nil {
		return err
	}

	t.batch = &pgx.Batch{}
	t.queueStatus()
	t.queueInventory()
	t.queueRollups()
	t.queueFleet()
	t.queueStats()
	if t.batch.Len() == 0 {
		return nil
	}
	if err := t.tx.SendBatch(ctx, t.batch).Close(); err != nil {
		return fmt.Errorf("update status, inventory, rollups and counters: %w", err)
	}
	return nil
}

// exec queues one statement of [txn.finish]'s batch.
func (t *txn) exec(sql string, args ...any) {
	t.batch.Queue(sql, args...)
}

// sortedStates returns the touched router states in id order.
func (t *txn) sortedStates() []*routerState {
	out := make([]*routerState, 0, len(t.states))
	for _, st := range t.states {
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b *routerState) int { return cmp.Compare(a.id, b.id) })
	return out
}

// queueStatus updates router_status for every router whose latest reading
// or usage state changed, in one statement. A newer reading that lacks a
// value (a poll answer without counters, a modem without a cell) keeps the
// last known one: router_status is the router's latest known state.
func (t *txn) queueStatus() {
	var (
		ids                                  []int64
		times, received                      []*time.Time
		sources, mcc, mnc, operator, network []*string
		tx, rx, uptime, lac, tac, cell       []*int64
		rsrp, rsrq, sinr, rssi               []*float32
		wan                                  []any
		flags                                []int32
		txb, txp, rxb, rxp                   []*int64
		txa, rxa                             []*time.Time
		full                                 []bool
	)
	for _, st := range t.sortedStates() {
		if st.latest == nil && !st.dirty {
			continue
		}
		ids = append(ids, st.id)
		b1, p1, a1 := samples.CounterColumns(st.state.Tx)
		b2, p2, a2 := samples.CounterColumns(st.state.Rx)
		txb, txp, txa = append(txb, b1), append(txp, p1), append(txa, a1)
		rxb, rxp, rxa = append(rxb, b2), append(rxp, p2), append(rxa, a2)

		row := st.latest
		full = append(full, row != nil)
		if row == nil {
			row = &sampleRow{r: &reading.Reading{}}
		}
		r := row.r
		times, received = append(times, timePtr(r.Time)), append(received, timePtr(row.received))
		sources = append(sources, text(string(row.source)))
		tx, rx, uptime = append(tx, r.TxBytes), append(rx, r.RxBytes), append(uptime, r.Uptime)
		rsrp, rsrq = append(rsrp, f32(r.RSRP)), append(rsrq, f32(r.RSRQ))
		sinr, rssi = append(sinr, f32(r.SINR)), append(rssi, f32(r.RSSI))
		mcc, mnc = append(mcc, text(r.MCC)), append(mnc, text(r.MNC))
		lac, tac, cell = append(lac, r.LAC), append(tac, r.TAC), append(cell, r.CellID)
		operator, network = append(operator, text(r.Operator)), append(network, text(r.NetworkType))
		wan = append(wan, inet(r.WANIP))
		flags = append(flags, int32(row.flags))
	}
	if len(ids) == 0 {
		return
	}

	const q = `UPDATE router_status s SET
			time = CASE WHEN u.newer THEN u.time ELSE s.time END,
			received_at = CASE WHEN u.newer THEN u.received_at ELSE s.received_at END,
			source = CASE WHEN u.newer THEN u.source ELSE s.source END,
			tx_counter = CASE WHEN u.newer THEN coalesce(u.tx_counter, s.tx_counter) ELSE s.tx_counter END,
			rx_counter = CASE WHEN u.newer THEN coalesce(u.rx_counter, s.rx_counter) ELSE s.rx_counter END,
			uptime_s = CASE WHEN u.newer THEN coalesce(u.uptime_s, s.uptime_s) ELSE s.uptime_s END,
			rsrp = CASE WHEN u.newer THEN coalesce(u.rsrp, s.rsrp) ELSE s.rsrp END,
			rsrq = CASE WHEN u.newer THEN coalesce(u.rsrq, s.rsrq) ELSE s.rsrq END,
			sinr = CASE WHEN u.newer THEN coalesce(u.sinr, s.sinr) ELSE s.sinr END,
			rssi = CASE WHEN u.newer THEN coalesce(u.rssi, s.rssi) ELSE s.rssi END,
			mcc = CASE WHEN u.newer THEN coalesce(u.mcc, s.mcc) ELSE s.mcc END,
			mnc = CASE WHEN u.newer THEN coalesce(u.mnc, s.mnc) ELSE s.mnc END,
			lac = CASE WHEN u.newer THEN coalesce(u.lac, s.lac) ELSE s.lac END,
			tac = CASE WHEN u.newer THEN coalesce(u.tac, s.tac) ELSE s.tac END,
			cell_id = CASE WHEN u.newer THEN coalesce(u.cell_id, s.cell_id) ELSE s.cell_id END,
			operator = CASE WHEN u.newer THEN coalesce(u.operator, s.operator) ELSE s.operator END,
			network_type = CASE WHEN u.newer THEN coalesce(u.network_type, s.network_type) ELSE s.network_type END,
			wan_ip = CASE WHEN u.newer THEN coalesce(u.wan_ip, s.wan_ip) ELSE s.wan_ip END,
			flags = CASE WHEN u.newer THEN u.flags ELSE s.flags END,
			tx_base = u.tx_base, tx_pending = u.tx_pending, tx_pending_at = u.tx_pending_at,
			rx_base = u.rx_base, rx_pending = u.rx_pending, rx_pending_at = u.rx_pending_at
		FROM unnest($1::bigint[], $2::boolean[], $3::timestamptz[], $4::timestamptz[], $5::text[],
			$6::bigint[], $7::bigint[], $8::bigint[], $9::real[], $10::real[], $11::real[], $12::real[],
			$13::text[], $14::text[], $15::bigint[], $16::bigint[], $17::bigint[], $18::text[],
			$19::text[], $20::inet[], $21::integer[], $22::bigint[], $23::bigint[],
			$24::timestamptz[], $25::bigint[], $26::bigint[], $27::timestamptz[])
			AS u (router_id, newer, time, received_at, source, tx_counter, rx_counter, uptime_s,
				rsrp, rsrq, sinr, rssi, mcc, mnc, lac, tac, cell_id, operator, network_type,
				wan_ip, flags, tx_base, tx_pending, tx_pending_at, rx_base, rx_pending, rx_pending_at)
		WHERE s.router_id = u.router_id`
	t.exec(q, ids, full, times, received, sources, tx, rx, uptime,
		rsrp, rsrq, sinr, rssi, mcc, mnc, lac, tac, cell, operator, network, wan, flags,
		txb, txp, txa, rxb, rxp, rxa)
}

// queueInventory stores the inventory of routers whose readings said
// something new, and widens first and last seen (to the minute). Firmware
// is stamped with its reading's time in firmware_seen_at and replaces the
// stored one only when no other source (RMS) observed firmware later.
func (t *txn) queueInventory() {
	var ids []int64
	var name, model, fw, imei, iccid, mac, wlan []*string
	var bits []int16
	var first, last []time.Time
	var fwAt []*time.Time
	for _, st := range t.sortedStates() {
		if !st.invSet {
			continue
		}
		if ri, ok := t.w.routers.get(st.serial); ok && ri.inventory == st.inv {
			continue
		}
		i := st.inv
		ids = append(ids, st.id)
		name, model, fw = append(name, text(i.name)), append(model, text(i.model)), append(fw, text(i.firmware))
		imei, iccid = append(imei, text(i.imei)), append(iccid, text(i.iccid))
		mac, wlan = append(mac, text(i.mac)), append(wlan, text(i.wlanMAC))
		bits = append(bits, int16(i.bits))
		first, last = append(first, i.first), append(last, i.last)
		fwAt = append(fwAt, timePtr(i.fwAt))
	}
	if len(ids) == 0 {
		return
	}

	const q = `UPDATE routers r SET
			name = coalesce(u.name, r.name), model = coalesce(u.model, r.model),
			firmware = CASE WHEN u.fw_at >= coalesce(r.firmware_seen_at, '-infinity')
				THEN coalesce(u.firmware, r.firmware) ELSE r.firmware END,
			firmware_seen_at = CASE WHEN u.fw_at >= coalesce(r.firmware_seen_at, '-infinity')
				THEN u.fw_at ELSE r.firmware_seen_at END,
			imei = coalesce(u.imei, r.imei),
			iccid = coalesce(u.iccid, r.iccid), lan_mac = coalesce(u.mac, r.lan_mac),
			wlan_mac = coalesce(u.wlan, r.wlan_mac),
			counter_bits = CASE WHEN u.bits IN (32, 64) THEN u.bits ELSE r.counter_bits END,
			first_seen = least(r.first_seen, u.first),
			last_seen = greatest(r.last_seen, u.last)
		FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
			$7::text[], $8::text[], $9::smallint[], $10::timestamptz[], $11::timestamptz[],
			$12::timestamptz[])
			AS u (id, name, model, firmware, imei, iccid, mac, wlan, bits, first, last, fw_at)
		WHERE r.id = u.id`
	t.exec(q, ids, name, model, fw, imei, iccid, mac, wlan, bits, first, last, fwAt)
}

// queueRollups adds the transaction's usage to the hourly and daily tables
// on plain PostgreSQL; continuous aggregates need nothing.
func (t *txn) queueRollups() {
	if t.w.cfg.Mode == db.ModeTimescale {
		return
	}
	for _, r := range []struct {
		table string
		m     map[rollKey]*rollDelta
	}{{"usage_hourly", t.hourly}, {"usage_daily", t.daily}} {
		t.upsertRollup(r.table, r.m)
	}
}

func (t *txn) upsertRollup(table string, m map[rollKey]*rollDelta) {
	if len(m) == 0 {
		return
	}
	keys := make([]rollKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b rollKey) int {
		return cmp.Or(cmp.Compare(a.router, b.router), a.bucket.Compare(b.bucket))
	})

	ids := make([]int64, len(keys))
	buckets := make([]time.Time, len(keys))
	tx, rx, n := make([]int64, len(keys)), make([]int64, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		d := m[k]
		ids[i], buckets[i], tx[i], rx[i], n[i] = k.router, k.bucket, d.tx, d.rx, d.samples
	}

	q := fmt.Sprintf(`INSERT INTO %[1]s AS u (router_id, bucket, tx_bytes, rx_bytes, samples)
		SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::bigint[], $4::bigint[], $5::bigint[])
		ON CONFLICT (router_id, bucket) DO UPDATE SET
			tx_bytes = u.tx_bytes + EXCLUDED.tx_bytes,
			rx_bytes = u.rx_bytes + EXCLUDED.rx_bytes,
			samples = u.samples + EXCLUDED.samples`, pgx.Identifier{table}.Sanitize())
	t.exec(q, ids, buckets, tx, rx, n)
}

// writeRejects stores every reject of the group.
func (t *txn) writeRejects(ctx context.Context) error {
	if len(t.rejects) == 0 {
		return nil
	}
	cols := []string{"received_at", "source", "router_serial", "item_index", "field", "reason", "payload"}
	src := pgx.CopyFromSlice(len(t.rejects), func(i int) ([]any, error) {
		r := t.rejects[i]
		b := &t.jobs[r.job].batch
		return []any{b.Received, string(b.Source), text(r.Serial), int32(r.Index),
			text(r.Field), r.Reason, capPayload(r.Payload)}, nil
	})
	if _, err := t.tx.CopyFrom(ctx, pgx.Identifier{"rejects"}, cols, src); err != nil {
		return fmt.Errorf("store rejects: %w", err)
	}
	return nil
}

// queueFleet adds the group's usage to its shard of the fleet rollup on
// plain PostgreSQL, near the end like ingest_stats: the shard rows are
// shared by every transaction of this worker.
func (t *txn) queueFleet() {
	if t.w.cfg.Mode == db.ModeTimescale || len(t.fleet) == 0 {
		return
	}
	buckets := make([]time.Time, 0, len(t.fleet))
	for b := range t.fleet {
		buckets = append(buckets, b)
	}
	slices.SortFunc(buckets, time.Time.Compare)
	tx, rx, n := make([]int64, len(buckets)), make([]int64, len(buckets)), make([]int64, len(buckets))
	for i, b := range buckets {
		d := t.fleet[b]
		tx[i], rx[i], n[i] = d.tx, d.rx, d.samples
	}

	const q = `INSERT INTO fleet_usage_hourly_parts AS f (bucket, shard, tx_bytes, rx_bytes, samples)
		SELECT b, $2, x, r, n FROM unnest($1::timestamptz[], $3::bigint[], $4::bigint[], $5::bigint[])
			AS u (b, x, r, n)
		ON CONFLICT (bucket, shard) DO UPDATE SET
			tx_bytes = f.tx_bytes + EXCLUDED.tx_bytes,
			rx_bytes = f.rx_bytes + EXCLUDED.rx_bytes,
			samples = f.samples + EXCLUDED.samples`
	t.exec(q, buckets, t.shard(), tx, rx, n)
}

// shard tells this worker's rows of the shared counters apart.
func (t *txn) shard() int { return t.w.cfg.Shard*16 + t.worker }

// queueStats adds the group's counts to ingest_stats, last, so that the
// shared rows are locked for as short a time as possible.
func (t *txn) queueStats() {
	if len(t.stats) == 0 {
		return
	}
	keys := make([]statKey, 0, len(t.stats))
	for k := range t.stats {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b statKey) int {
		return cmp.Or(a.minute.Compare(b.minute), cmp.Compare(a.source, b.source))
	})
	minutes := make([]time.Time, len(keys))
	sources := make([]string, len(keys))
	acc, dup, rej := make([]int64, len(keys)), make([]int64, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		c := t.stats[k]
		minutes[i], sources[i], acc[i], dup[i], rej[i] = k.minute, string(k.source), c.accepted, c.duplicates, c.rejected
	}

	const q = `INSERT INTO ingest_stats AS s (minute, source, shard, accepted, duplicates, rejected)
		SELECT m, src, $2, a, d, r
		FROM unnest($1::timestamptz[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[])
			AS u (m, src, a, d, r)
		ON CONFLICT (minute, source, shard) DO UPDATE SET
			accepted = s.accepted + EXCLUDED.accepted,
			duplicates = s.duplicates + EXCLUDED.duplicates,
			rejected = s.rejected + EXCLUDED.rejected`
	t.exec(q, minutes, t.shard(), sources, acc, dup, rej)
}

// remember caches what the committed transaction established.
func (t *txn) remember() {
	for _, st := range t.states {
		ri := routerInfo{id: st.id}
		if old, ok := t.w.routers.get(st.serial); ok {
			ri.inventory = old.inventory
		}
		if st.invSet {
			ri.inventory = st.inv
		}
		t.w.routers.put(st.serial, ri)
	}
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
