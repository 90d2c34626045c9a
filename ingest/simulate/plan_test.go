package simulate_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/routerlogger/routerlogger/ingest/reading"
	"github.com/routerlogger/routerlogger/ingest/simulate"
	"github.com/routerlogger/routerlogger/ingest/usage"
)

func TestPlan_Deterministic(t *testing.T) {
	cfg := testConfig()
	ds1, tr1 := simulate.Plan(cfg)
	ds2, tr2 := simulate.Plan(cfg)

	t.Run("same seed, same plan", func(t *testing.T) {
		if !reflect.DeepEqual(ds1, ds2) || !reflect.DeepEqual(tr1, tr2) {
			t.Fatal("two plans of the same config differ")
		}
	})
	t.Run("other seed, other plan", func(t *testing.T) {
		other := cfg
		other.Seed++
		ds3, tr3 := simulate.Plan(other)
		if reflect.DeepEqual(plannedReadings(ds1), plannedReadings(ds3)) || reflect.DeepEqual(tr1, tr3) {
			t.Fatal("seeds 42 and 43 gave the same plan")
		}
	})
	t.Run("a router does not change when the fleet grows", func(t *testing.T) {
		bigger := cfg
		bigger.Routers = cfg.Routers * 2
		_, tr3 := simulate.Plan(bigger)
		for serial, want := range tr1.Routers {
			if got := tr3.Routers[serial]; got != want {
				t.Errorf("%s: truth %+v in the bigger fleet, want %+v", serial, got, want)
			}
		}
	})
}

func TestPlan_Defaults(t *testing.T) {
	tests := []struct {
		name         string
		cfg          simulate.Config
		routers, per int
		anomalies    bool
		span         time.Duration
	}{
		{"zero config", simulate.Config{}, 10, 288, true, simulate.DefaultDuration},
		{"anomalies disabled", simulate.Config{Routers: 3, RebootProb: -1, GlitchProb: -1,
			LateProb: -1, DupProb: -1}, 3, 288, false, simulate.DefaultDuration},
		{"interval longer than the span", simulate.Config{Routers: 20, Duration: time.Minute,
			Interval: time.Hour}, 20, 1, false, time.Minute},
		{"one-second interval", simulate.Config{Routers: 2, Duration: time.Hour,
			Interval: time.Second}, 2, 3600, true, time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := time.Now()
			ds, tr := simulate.Plan(tt.cfg)
			after := time.Now()

			if len(tr.Routers) != tt.routers {
				t.Fatalf("%d routers, want %d", len(tr.Routers), tt.routers)
			}
			for serial, rt := range tr.Routers {
				if rt.Readings != tt.per {
					t.Errorf("%s: %d readings, want %d", serial, rt.Readings, tt.per)
				}
				n := rt.Reboots + rt.Glitches + rt.Late + rt.Duplicates
				if !tt.anomalies && n != 0 {
					t.Errorf("%s: %d anomalies with anomalies disabled", serial, n)
				}
			}
			checkTimesWithin(t, ds, before.Add(-tt.span).Truncate(time.Second), after)
		})
	}
}

// checkTimesWithin checks that every reading lies in [from, to].
func checkTimesWithin(t *testing.T, ds []simulate.Delivery, from, to time.Time) {
	t.Helper()
	for _, d := range ds {
		if d.Reading.Time.Before(from) || d.Reading.Time.After(to) {
			t.Fatalf("reading of %s at %s, want within [%s, %s]",
				d.Reading.DeviceID, d.Reading.Time, from, to)
		}
	}
}

func TestPlan_Truth(t *testing.T) {
	cfg := testConfig()
	cfg.Routers = 20
	ds, truth := simulate.Plan(cfg)
	got := observe(t, ds)

	t.Run("every anomaly occurs", func(t *testing.T) {
		var sum simulate.RouterTruth
		for _, rt := range truth.Routers {
			sum.Reboots += rt.Reboots
			sum.Glitches += rt.Glitches
			sum.Late += rt.Late
			sum.Duplicates += rt.Duplicates
		}
		if sum.Reboots == 0 || sum.Glitches == 0 || sum.Late == 0 || sum.Duplicates == 0 {
			t.Fatalf("anomaly counts %+v: the test needs each kind", sum)
		}
	})
	t.Run("truth equals what the readings show", func(t *testing.T) {
		if !maps.Equal(got, truth.Routers) {
			for serial, want := range truth.Routers {
				if got[serial] != want {
					t.Errorf("%s: readings show %+v, truth is %+v", serial, got[serial], want)
				}
			}
			t.Fatalf("%d routers observed, %d in the truth", len(got), len(truth.Routers))
		}
	})
	t.Run("truth equals the usage rules", func(t *testing.T) {
		for serial, rs := range series(ds) {
			results, _, _ := usage.Replay(usage.State{}, usageReadings(rs), usage.Options{})
			tx, rx := usage.Total(results, usage.Tx), usage.Total(results, usage.Rx)
			want := truth.Routers[serial]
			if tx != want.TxBytes || rx != want.RxBytes {
				t.Errorf("%s: usage rules give tx %d rx %d, truth is tx %d rx %d",
					serial, tx, rx, want.TxBytes, want.RxBytes)
			}
		}
	})
}

// observe works out each router's truth from the deliveries alone: a
// repeat of a serial and time is a duplicate, a reading older than one
// already sent is late, and in time order an uptime fall is a reboot
// (its counters are the usage), both counters at 0 with uptime rising are
// a glitch (skipped), and otherwise usage is the growth since the last
// valid reading.
func observe(t *testing.T, ds []simulate.Delivery) map[string]simulate.RouterTruth {
	t.Helper()
	out := map[string]simulate.RouterTruth{}
	seen := map[string]bool{}
	newest := map[string]time.Time{}
	for _, d := range ds {
		r := d.Reading
		rt := out[r.DeviceID]
		rt.Name = r.Name
		switch k := r.DeviceID + r.Time.String(); {
		case seen[k]:
			rt.Duplicates++
		case r.Time.Before(newest[r.DeviceID]):
			seen[k] = true
			rt.Late++
			rt.Readings++
		default:
			seen[k] = true
			newest[r.DeviceID] = r.Time
			rt.Readings++
		}
		out[r.DeviceID] = rt
	}

	for serial, rs := range series(ds) {
		rt := out[serial]
		last := rs[0] // the last valid reading
		for i, r := range rs[1:] {
			prev := rs[i]
			switch {
			case r.Uptime < prev.Uptime:
				rt.Reboots++
				rt.TxBytes += r.Counters.TxBytes
				rt.RxBytes += r.Counters.RxBytes
				last = r
			case r.Counters == simulate.Counters{}:
				rt.Glitches++
			default:
				rt.TxBytes += r.Counters.TxBytes - last.Counters.TxBytes
				rt.RxBytes += r.Counters.RxBytes - last.Counters.RxBytes
				last = r
			}
		}
		out[serial] = rt
	}
	return out
}

// series returns each router's distinct readings in time order.
func series(ds []simulate.Delivery) map[string][]simulate.Reading {
	out := map[string][]simulate.Reading{}
	seen := map[string]bool{}
	for _, d := range ds {
		r := d.Reading
		if k := r.DeviceID + r.Time.String(); !seen[k] {
			seen[k] = true
			out[r.DeviceID] = append(out[r.DeviceID], r)
		}
	}
	for _, rs := range out {
		sort.Slice(rs, func(i, j int) bool { return rs[i].Time.Before(rs[j].Time) })
	}
	return out
}

// usageReadings converts readings for the usage rules.
func usageReadings(rs []simulate.Reading) []usage.Reading {
	out := make([]usage.Reading, len(rs))
	for i, r := range rs {
		out[i] = usage.Reading{Time: r.Time, Uptime: &r.Uptime, Tx: &r.Counters.TxBytes,
			Rx: &r.Counters.RxBytes}
	}
	return out
}

func TestPlan_Anomalies(t *testing.T) {
	cfg := testConfig()
	cfg.Routers = 20
	ds, _ := simulate.Plan(cfg)
	n := int(cfg.Duration / cfg.Interval)

	// Anomalous positions per router; a duplicate's copy has its original's.
	marks := map[string]map[int]string{}
	for _, d := range ds {
		kind := anomalyOf(d)
		if kind == "" {
			continue
		}
		m := marks[d.Reading.DeviceID]
		if m == nil {
			m = map[int]string{}
			marks[d.Reading.DeviceID] = m
		}
		m[d.Seq] = kind
	}

	for serial, m := range marks {
		seqs := slices.Sorted(maps.Keys(m))
		if seqs[0] <= 3 || seqs[len(seqs)-1] >= n-4 {
			t.Errorf("%s: anomalies at %v, want 3 ordinary readings after the first and before the last",
				serial, seqs)
		}
		for i := 1; i < len(seqs); i++ {
			if seqs[i]-seqs[i-1] <= 3 {
				t.Errorf("%s: %s at %d and %s at %d, want 3 ordinary readings between",
					serial, m[seqs[i-1]], seqs[i-1], m[seqs[i]], seqs[i])
			}
		}
	}
	checkSendOrder(t, ds)
}

// anomalyOf names what is special about a delivery, "" for nothing.
func anomalyOf(d simulate.Delivery) string {
	switch {
	case d.Reboot:
		return "reboot"
	case d.Glitch:
		return "glitch"
	case d.Late:
		return "late"
	case d.Copy:
		return "duplicate"
	}
	return ""
}

// checkSendOrder checks that readings go out in time order but for late
// ones, which come right after their router's next reading, and copies.
func checkSendOrder(t *testing.T, ds []simulate.Delivery) {
	t.Helper()
	var newest time.Time
	last := map[string]simulate.Delivery{}
	for i, d := range ds {
		prev, ok := last[d.Reading.DeviceID]
		switch {
		case d.Late && (!ok || prev.Seq != d.Seq+1):
			t.Errorf("delivery %d: late reading %d of %s follows reading %d, want %d",
				i, d.Seq, d.Reading.DeviceID, prev.Seq, d.Seq+1)
		case !d.Late && !d.Copy && d.Reading.Time.Before(newest):
			t.Errorf("delivery %d: %s at %s sent after a reading at %s",
				i, d.Reading.DeviceID, d.Reading.Time, newest)
		}
		if !d.Late && !d.Copy {
			newest = d.Reading.Time
		}
		last[d.Reading.DeviceID] = d
	}
}

func TestPlan_Realism(t *testing.T) {
	cfg := testConfig()
	cfg.Routers, cfg.Duration = 24, 24*time.Hour
	ds, _ := simulate.Plan(cfg)

	t.Run("fields", func(t *testing.T) {
		for _, d := range ds {
			if err := checkReading(d.Reading); err != nil {
				t.Fatalf("%s at %s: %v", d.Reading.DeviceID, d.Reading.Time, err)
			}
		}
	})
	t.Run("unique identities", func(t *testing.T) {
		checkUnique(t, ds)
	})
	t.Run("series", func(t *testing.T) {
		for serial, rs := range series(ds) {
			if err := checkSeries(rs, cfg.Interval); err != nil {
				t.Errorf("%s: %v", serial, err)
			}
		}
	})
	t.Run("fleet variety", func(t *testing.T) {
		checkVariety(t, ds)
	})
	t.Run("more traffic in the evening than at night", func(t *testing.T) {
		evening, night := rateByHours(ds, 19, 23), rateByHours(ds, 2, 6)
		if !(evening >= 3*night) { // NaN when an interval has no readings
			t.Errorf("mean rx %.0f B/s from 19:00 to 23:00, %.0f B/s from 02:00 to 06:00; "+
				"want the evening at least 3 times the night", evening, night)
		}
	})
}

var (
	serialRE = regexp.MustCompile(`^SIM-\d{6}$`)
	nameRE   = regexp.MustCompile(`^SIM-ROUTER-\d{4,}$`)
	imeiRE   = regexp.MustCompile(`^35000\d{10}$`)
	iccidRE  = regexp.MustCompile(`^89001\d{14,15}$`)
	macRE    = regexp.MustCompile(`^00:1E:42(:[0-9A-F]{2}){3}$`)
	digitsRE = regexp.MustCompile(`^\d+$`)
	cgnat    = netip.MustParsePrefix("100.64.0.0/10")
)

// checkReading checks one reading's fields against real routers' ranges.
func checkReading(r simulate.Reading) error {
	ip, err := netip.ParseAddr(r.WANIP)
	checks := []struct {
		ok   bool
		what string
	}{
		{serialRE.MatchString(r.DeviceID), "serial " + r.DeviceID},
		{nameRE.MatchString(r.Name) && r.Name[11:] == r.DeviceID[6:], "name " + r.Name},
		{slices.Contains([]string{"RUT241", "RUT950", "RUTX11", "RUTM50"}, r.Model), "model " + r.Model},
		{imeiRE.MatchString(r.IMEI) && luhn(r.IMEI), "IMEI " + r.IMEI},
		{iccidRE.MatchString(r.ICCID) && luhn(r.ICCID), "ICCID " + r.ICCID},
		{macRE.MatchString(r.MAC), "MAC " + r.MAC},
		{err == nil && cgnat.Contains(ip), "WAN IP " + r.WANIP},
		{r.MCC == "001" && r.MNC == "01" || r.MCC == "234" && len(r.MNC) == 2,
			"PLMN " + r.MCC + "-" + r.MNC},
		{r.Operator != "" && r.Firmware != "", "operator and firmware"},
		{r.NetworkType == "LTE" || r.NetworkType == "5G-NSA" && r.Model == "RUTM50",
			"network " + r.NetworkType},
		{r.Cell.LAC == nil && digitsRE.MatchString(r.Cell.TAC) && digitsRE.MatchString(r.Cell.CID),
			"cell codes"},
		{within(r.Cell.RSRP, -120, -70), fmt.Sprint("RSRP ", r.Cell.RSRP)},
		{within(r.Cell.RSRQ, -20, -3), fmt.Sprint("RSRQ ", r.Cell.RSRQ)},
		{within(r.Cell.SINR, -5, 30), fmt.Sprint("SINR ", r.Cell.SINR)},
		{within(r.Cell.RSSI, -100, -50), fmt.Sprint("RSSI ", r.Cell.RSSI)},
		{r.Counters.TxBytes >= 0 && r.Counters.RxBytes >= 0 && r.Uptime > 0, "counters and uptime"},
		{r.Time.Location() == time.UTC && r.Time.Nanosecond() == 0, "timestamp " + r.Time.String()},
	}
	for _, c := range checks {
		if !c.ok {
			return fmt.Errorf("unrealistic %s", c.what)
		}
	}
	return nil
}

// within reports whether v lies in [lo, hi].
func within(v, lo, hi float64) bool { return v >= lo && v <= hi }

// luhn reports whether a digit string has a valid Luhn check digit.
func luhn(s string) bool {
	sum := 0
	for i := range len(s) {
		d := int(s[len(s)-1-i] - '0')
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// checkUnique checks that no two routers share a name, IMEI, ICCID or MAC.
func checkUnique(t *testing.T, ds []simulate.Delivery) {
	t.Helper()
	owner := map[string]string{}
	for _, d := range ds {
		r := d.Reading
		ids := []string{"name " + r.Name, "imei " + r.IMEI, "iccid " + r.ICCID, "mac " + r.MAC}
		for _, id := range ids {
			if o, ok := owner[id]; ok && o != r.DeviceID {
				t.Fatalf("%s used by %s and %s", id, o, r.DeviceID)
			}
			owner[id] = r.DeviceID
		}
	}
}

// checkSeries checks a router's readings in time order: uptime rises by
// the time passed except at a reboot, where it restarts below the
// interval; counters never fall but at a reboot or glitch.
func checkSeries(rs []simulate.Reading, interval time.Duration) error {
	for i := 1; i < len(rs); i++ {
		prev, r := rs[i-1], rs[i]
		elapsed := int64(r.Time.Sub(prev.Time) / time.Second)
		if d := r.Time.Sub(prev.Time); d < interval*9/10 || d > interval*11/10 {
			return fmt.Errorf("reading %d: %s after the previous, want about %s", i, d, interval)
		}
		switch {
		case r.Uptime < prev.Uptime:
			if r.Uptime >= elapsed {
				return fmt.Errorf("reading %d: uptime %d after a reboot, want below %d",
					i, r.Uptime, elapsed)
			}
		case r.Uptime != prev.Uptime+elapsed:
			return fmt.Errorf("reading %d: uptime %d, want %d + %d", i, r.Uptime, prev.Uptime, elapsed)
		case r.Counters != simulate.Counters{} && prev.Counters != simulate.Counters{} &&
			(r.Counters.TxBytes <= prev.Counters.TxBytes || r.Counters.RxBytes <= prev.Counters.RxBytes):
			return fmt.Errorf("reading %d: counters %+v after %+v without a reboot",
				i, r.Counters, prev.Counters)
		}
	}
	return nil
}

// checkVariety checks that the fleet mixes models, networks and counter
// sizes.
func checkVariety(t *testing.T, ds []simulate.Delivery) {
	t.Helper()
	models, plmns := map[string]bool{}, map[string]bool{}
	var above32 int
	for _, d := range ds {
		models[d.Reading.Model] = true
		plmns[d.Reading.MCC+"-"+d.Reading.MNC] = true
		if max(d.Reading.Counters.TxBytes, d.Reading.Counters.RxBytes) > math.MaxUint32 {
			above32++
		}
	}
	if len(models) < 3 || len(plmns) < 3 {
		t.Errorf("models %v, PLMNs %v: want at least 3 of each", models, plmns)
	}
	if above32 == 0 || above32 == len(ds) {
		t.Errorf("%d of %d readings have a counter above 2^32, want some", above32, len(ds))
	}
}

// rateByHours returns the fleet's mean rx bytes per second over the
// ordinary intervals that end in [from, to) hours UTC.
func rateByHours(ds []simulate.Delivery, from, to int) float64 {
	var bytes, secs float64
	for _, rs := range series(ds) {
		for i := 1; i < len(rs); i++ {
			prev, r := rs[i-1], rs[i]
			h := r.Time.Hour()
			if h < from || h >= to || r.Uptime < prev.Uptime ||
				r.Counters == (simulate.Counters{}) || prev.Counters == (simulate.Counters{}) {
				continue
			}
			bytes += float64(r.Counters.RxBytes - prev.Counters.RxBytes)
			secs += r.Time.Sub(prev.Time).Seconds()
		}
	}
	return bytes / secs
}

func TestPlan_Shape(t *testing.T) {
	ds, _ := simulate.Plan(testConfig())

	t.Run("same keys and JSON types as the fixture", func(t *testing.T) {
		want := jsonTypes(t, fixtureLine(t))
		for _, d := range ds[:50] {
			b, err := json.Marshal(d.Reading)
			if err != nil {
				t.Fatal(err)
			}
			if got := jsonTypes(t, b); !maps.Equal(got, want) {
				t.Fatalf("reading %s has keys and types\n%v\nwant those of the fixture\n%v", b, got, want)
			}
		}
	})
	t.Run("the reading parser takes every reading whole", func(t *testing.T) {
		p := &reading.Parser{Now: func() time.Time { return t0.Add(24 * time.Hour) }}
		for _, d := range ds {
			checkParsed(t, p, d.Reading)
		}
	})
}

// fixtureLine returns the first line of the HTTP telemetry fixture.
func fixtureLine(t *testing.T) []byte {
	t.Helper()
	path := filepath.Join("..", "..", "..", "shared", "fixtures", "router-telemetry-http.jsonl")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		t.Fatalf("fixture is empty: %v", sc.Err())
	}
	return sc.Bytes()
}

// jsonTypes maps each dotted key path of a JSON object to its JSON type.
func jsonTypes(t *testing.T, b []byte) map[string]string {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			if sub, ok := v.(map[string]any); ok {
				walk(prefix+k+".", sub)
				continue
			}
			out[prefix+k] = fmt.Sprintf("%T", v)
		}
	}
	walk("", v)
	return out
}

// checkParsed checks that the parser accepts r with nothing nulled and
// keeps its counters, uptime and PLMN exact.
func checkParsed(t *testing.T, p *reading.Parser, r simulate.Reading) {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	got, ferr := p.Parse(b)
	switch {
	case ferr != nil:
		t.Fatalf("parser rejects %s: %v", b, ferr)
	case len(got.Nulled) > 0:
		t.Fatalf("parser nulls %v of %s", got.Nulled, b)
	case got.TxBytes == nil || *got.TxBytes != r.Counters.TxBytes ||
		got.RxBytes == nil || *got.RxBytes != r.Counters.RxBytes ||
		got.Uptime == nil || *got.Uptime != r.Uptime:
		t.Fatalf("parser changes counters or uptime of %s", b)
	case got.MCC != r.MCC || got.MNC != r.MNC || !got.Time.Equal(r.Time) || got.MAC != r.MAC:
		t.Fatalf("parser reads PLMN %s-%s time %s MAC %s from %s", got.MCC, got.MNC, got.Time, got.MAC, b)
	}
}
