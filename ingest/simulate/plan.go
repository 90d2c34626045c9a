package simulate

import (
	"cmp"
	"slices"
	"time"
)

// Delivery is one reading as it is posted; [Plan] returns them in send
// order.
type Delivery struct {
	Reading Reading
	// Seq is the reading's position in its router's series; 0 is the first.
	Seq int
	// Reboot is set when the router rebooted since its previous reading.
	Reboot bool
	// Glitch is set when the reading reports both counters as 0 although
	// the router kept counting.
	Glitch bool
	// Late is set when the reading is sent after the router's next one.
	Late bool
	// Copy is set on the second delivery of a duplicated reading.
	Copy bool
}

// Truth is what the simulator knows of the fleet and RouterLogger must
// work out from the readings alone.
type Truth struct {
	// Routers is keyed by serial.
	Routers map[string]RouterTruth
}

// RouterTruth is the ground truth of one router.
type RouterTruth struct {
	Name string
	// TxBytes and RxBytes are the true usage: the sum of the traffic of
	// every interval after the router's first reading, with the bytes
	// counted since a reboot included.
	TxBytes, RxBytes int64
	// Readings counts distinct readings, duplicates aside.
	Readings int
	// Reboots, Glitches, Late and Duplicates count the anomalies.
	Reboots, Glitches, Late, Duplicates int
}

// Total returns the fleet's true usage.
func (t Truth) Total() (tx, rx int64) {
	for _, r := range t.Routers {
		tx, rx = tx+r.TxBytes, rx+r.RxBytes
	}
	return tx, rx
}

// anomaly is what is special about one reading of a series.
type anomaly uint8

const (
	ordinary anomaly = iota
	reboot
	glitch
	late
	duplicate
)

// anomalySpacing is the least number of ordinary readings between two
// anomalies of a router, and between an anomaly and the first or last
// reading. The server's rules handle closer ones (a glitch next to a
// reboot, a late reading next to a glitch), but the truth gets ambiguous
// there: a glitch right after a boot has an uptime below the interval and
// passes for a second reboot, and a late reading next to a glitch decides
// the suspect in another order. So anomalies are kept 3 readings apart.
const anomalySpacing = 3

// sendKey orders deliveries: by the time of the reading they follow, then
// by router, then after that reading (0 is the reading itself).
type sendKey struct {
	at     time.Time
	router int
	after  int
}

// compare orders k before o by time, router and place.
func (k sendKey) compare(o sendKey) int {
	return cmp.Or(k.at.Compare(o.at),
		cmp.Compare(k.router, o.router), cmp.Compare(k.after, o.after))
}

// planned is a delivery with its place in the send order.
type planned struct {
	key sendKey
	d   Delivery
}

// Plan simulates the fleet and returns every delivery in send order with
// the truth. It is deterministic for a Config: the same Seed and Start
// give the same plan (a zero Start means Now - Duration, so set it when
// comparing plans). Readings are sent in time order across the fleet,
// except that a late reading follows its router's next reading and the
// copy of a duplicate follows the original or its next reading.
func Plan(cfg Config) ([]Delivery, Truth) {
	return plan(cfg.withDefaults())
}

// plan is [Plan] for a config with its defaults set.
func plan(cfg Config) ([]Delivery, Truth) {
	f := newFleet(cfg.Seed, cfg.Prefix)
	truth := Truth{Routers: make(map[string]RouterTruth, cfg.Routers)}

	var all []planned
	for i := range cfg.Routers {
		r := f.router(i)
		series, rt := r.simulate(cfg, i)
		truth.Routers[r.id.DeviceID] = rt
		all = append(all, series...)
	}

	slices.SortStableFunc(all, func(a, b planned) int { return a.key.compare(b.key) })
	out := make([]Delivery, len(all))
	for i, p := range all {
		out[i] = p.d
	}
	return out, truth
}

// simulate runs router number index over the configured span and returns
// its deliveries, unordered, and its truth.
func (r *router) simulate(cfg Config, index int) ([]planned, RouterTruth) {
	times := r.times(cfg)
	kinds := r.anomalies(cfg, len(times))
	rt := RouterTruth{Name: r.id.Name, Readings: len(times)}
	out := make([]planned, 0, len(times)+len(times)/32)

	for seq, t := range times {
		if seq > 0 {
			elapsed := int64(t.Sub(times[seq-1]) / time.Second)
			tx, rx := r.step(t, elapsed, kinds[seq] == reboot)
			rt.TxBytes, rt.RxBytes = rt.TxBytes+tx, rt.RxBytes+rx
		}

		d := Delivery{Reading: r.reading(t), Seq: seq}
		key := sendKey{at: t, router: index}
		var next sendKey // right after the router's next reading
		if seq+1 < len(times) {
			next = sendKey{at: times[seq+1], router: index, after: 1}
		}
		out = append(out, r.deliver(kinds[seq], d, key, next, &rt)...)
	}
	return out, rt
}

// deliver applies anomaly k to delivery d, counts it in rt and returns
// the delivery or deliveries to send. Anomalies never fall on the last
// reading, so next is set whenever it is needed.
func (r *router) deliver(k anomaly, d Delivery, key, next sendKey, rt *RouterTruth) []planned {
	switch k {
	case reboot:
		d.Reboot = true
		rt.Reboots++
	case glitch:
		// The router keeps counting; only this report of its counters is 0.
		d.Glitch = true
		d.Reading.Counters = Counters{}
		rt.Glitches++
	case late:
		d.Late = true
		key = next
		rt.Late++
	case duplicate:
		rt.Duplicates++
		cp := d
		cp.Copy = true
		copyKey := sendKey{at: key.at, router: key.router, after: 1}
		if r.rng.IntN(2) == 0 {
			copyKey = sendKey{at: next.at, router: key.router, after: 2}
		}
		return []planned{{key, d}, {copyKey, cp}}
	}
	return []planned{{key, d}}
}

// times returns the timestamps of the router's readings: every Interval
// from a random phase, a few seconds late at times as cron jobs are, all
// in whole seconds within [Start, Start+Duration) and strictly rising.
func (r *router) times(cfg Config) []time.Time {
	n := max(int(cfg.Duration/cfg.Interval), 1)
	sec := int64(cfg.Interval / time.Second)
	jitter := min(3, sec/10)
	span := min(sec, int64(cfg.Duration/time.Second)) // where the first reading may fall
	phase := r.rng.Int64N(max(span-jitter, 1))

	out := make([]time.Time, n)
	for i := range out {
		off := phase + int64(i)*sec + r.rng.Int64N(jitter+1)
		out[i] = cfg.Start.Add(time.Duration(off) * time.Second)
	}
	return out
}

// anomalies picks at most one anomaly per reading of a series of n,
// keeping anomalySpacing ordinary readings around each.
func (r *router) anomalies(cfg Config, n int) []anomaly {
	kinds := make([]anomaly, n)
	last := 0 // the first reading is ordinary
	for seq := 1; seq < n-1-anomalySpacing; seq++ {
		if seq-last <= anomalySpacing {
			continue
		}
		if k := pick(cfg, r.rng.Float64()); k != ordinary {
			kinds[seq], last = k, seq
		}
	}
	return kinds
}

// pick maps a uniform draw u to an anomaly by the configured chances.
func pick(cfg Config, u float64) anomaly {
	for _, c := range []struct {
		k anomaly
		p float64
	}{
		{reboot, cfg.RebootProb}, {glitch, cfg.GlitchProb},
		{late, cfg.LateProb}, {duplicate, cfg.DupProb},
	} {
		if u < c.p {
			return c.k
		}
		u -= c.p
	}
	return ordinary
}
