package simulate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// model is one router of the Teltonika RUT family.
type model struct {
	name, firmware, network string
}

// models are the simulated models; the RUTM50 is the 5G one.
var models = []model{
	{"RUT241", "RUT2M_R_00.07.20.5", "LTE"},
	{"RUT950", "RUT9_R_00.07.06.20", "LTE"},
	{"RUTX11", "RUTX_R_00.07.20.5", "LTE"},
	{"RUTM50", "RUTM_R_00.07.20.5", "5G-NSA"},
}

// network is a PLMN a SIM can roam on: the 001-01 test network or a UK one.
type network struct {
	operator, mcc, mnc string
}

// networks are the simulated PLMNs; MCC and MNC keep their leading zeros.
var networks = []network{
	{"Test PLMN 1-1", "001", "01"},
	{"O2 - UK", "234", "10"},
	{"Vodafone UK", "234", "15"},
	{"3 UK", "234", "20"},
	{"EE", "234", "30"},
}

// Traffic and radio behaviour, per reading.
const (
	burstProb    = 0.02  // chance of a download burst in an interval
	handoverProb = 0.004 // chance of a new serving cell
	fallbackProb = 0.1   // chance that a 5G router reports LTE
)

// fleet holds what all routers of one seed share: the bases that keep
// IMEIs, ICCIDs and MACs unique within the fleet.
type fleet struct {
	seed      int64
	prefix    string
	imeiBase  uint64
	iccidBase uint64
	macBase   uint32
}

// newFleet draws the fleet's bases from seed.
func newFleet(seed int64, prefix string) fleet {
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	return fleet{
		seed:      seed,
		prefix:    prefix,
		imeiBase:  rng.Uint64N(1e9 - MaxRouters),
		iccidBase: rng.Uint64N(1e13 - MaxRouters),
		macBase:   rng.Uint32N(1 << 24),
	}
}

// router is one simulated router: its identity, kept as the fields of a
// reading, and its true state.
type router struct {
	rng   *rand.Rand
	id    Reading
	model model
	net   network

	uptime         int64   // seconds since boot
	tx, rx         int64   // true counters since boot
	txRate, rxRate float64 // mean bytes per second at diurnal factor 1

	rsrp, rsrq, sinr walk
	tac, cid         int64
}

// router builds router i; each router has its own random stream, so a
// router does not change when the fleet grows.
func (f fleet) router(i int) *router {
	rng := rand.New(rand.NewPCG(uint64(f.seed), uint64(i)+1))
	r := &router{rng: rng, model: models[rng.IntN(len(models))]}
	r.net = networks[rng.IntN(len(networks))]
	mac := (f.macBase + uint32(i)) & 0xFFFFFF
	r.id = Reading{
		DeviceID: fmt.Sprintf("%s-%06d", f.prefix, i+1),
		Name:     fmt.Sprintf("%s-ROUTER-%04d", f.prefix, i+1),
		Model:    r.model.name,
		Firmware: r.model.firmware,
		IMEI:     withLuhn(fmt.Sprintf("35000%09d", f.imeiBase+uint64(i))),
		ICCID:    f.iccid(i, rng),
		MAC:      fmt.Sprintf("00:1E:42:%02X:%02X:%02X", mac>>16, mac>>8&0xFF, mac&0xFF),
		WANIP:    cgnatIP(rng),
		Operator: r.net.operator,
		MCC:      r.net.mcc,
		MNC:      r.net.mnc,
	}
	r.initState(i)
	return r
}

// iccid returns a fake ICCID of 19 or 20 digits starting 89001 (issuer
// 89 telecom, country 001) with a Luhn check digit.
func (f fleet) iccid(i int, rng *rand.Rand) string {
	body := fmt.Sprintf("89001%013d", f.iccidBase+uint64(i))
	if rng.IntN(2) == 0 {
		body = fmt.Sprintf("89001%d%013d", 1+rng.IntN(9), f.iccidBase+uint64(i))
	}
	return withLuhn(body)
}

// initState draws the router's counters, uptime, traffic and radio.
// Every third router starts with a counter above 2^32.
func (r *router) initState(i int) {
	r.uptime = 3600 + r.rng.Int64N(60*86400)
	r.rx = int64(logUniform(r.rng, 1e7, 2e11))
	if i%3 == 0 {
		r.rx = max(r.rx, 1<<32+r.rng.Int64N(1e10))
	}
	r.tx = int64(float64(r.rx) * (0.08 + 0.3*r.rng.Float64()))
	r.rxRate = logUniform(r.rng, 500, 150e3)
	r.txRate = r.rxRate * (0.08 + 0.3*r.rng.Float64())

	r.rsrp = newWalk(r.rng, -120, -70, -112, -78, 2)
	r.rsrq = newWalk(r.rng, -20, -3, -14, -6, 1)
	r.sinr = newWalk(r.rng, -5, 30, 0, 22, 1.5)
	r.handover(true)
}

// handover moves the router to another cell: mostly another sector of the
// same site, sometimes (or first) a new site and tracking area.
func (r *router) handover(newSite bool) {
	if r.net.mcc == "001" {
		r.tac, r.cid = 1, 257+r.rng.Int64N(8)
		return
	}
	if newSite || r.rng.IntN(3) == 0 {
		r.tac = 1000 + r.rng.Int64N(50000)
		r.cid = r.rng.Int64N(1<<20) << 8
	}
	r.cid = r.cid&^0xFF | (1 + r.rng.Int64N(3))
}

// step moves the router on by elapsed seconds to t and returns the true
// bytes it moved. On a reboot the router came up shortly before t: uptime
// and counters restart, and the bytes are those counted since the boot
// (the traffic before the reboot was never counted by anyone).
func (r *router) step(t time.Time, elapsed int64, reboot bool) (tx, rx int64) {
	if !reboot {
		tx, rx = r.traffic(t, elapsed)
		r.uptime += elapsed
		r.tx, r.rx = r.tx+tx, r.rx+rx
		return tx, rx
	}

	up := r.bootUptime(elapsed)
	tx, rx = r.traffic(t, up)
	r.uptime, r.tx, r.rx = up, tx, rx
	r.id.WANIP = cgnatIP(r.rng) // a new CGNAT lease after the boot
	return tx, rx
}

// bootUptime returns the uptime at the first reading after a boot: 20 s
// to 2 min, and less than the time since the previous reading unless
// that is a mere second.
func (r *router) bootUptime(elapsed int64) int64 {
	hi := max(min(120, elapsed-1), 1)
	lo := min(20, hi)
	return lo + r.rng.Int64N(hi-lo+1)
}

// traffic returns the bytes moved in the secs seconds before t: a
// per-router rate shaped by the time of day, noise, the odd download
// burst and a floor of keep-alive traffic.
func (r *router) traffic(t time.Time, secs int64) (tx, rx int64) {
	mid := t.Add(-time.Duration(secs) * time.Second / 2)
	load := float64(secs) * diurnal(mid)
	if r.rng.Float64() < burstProb {
		load *= 3 + 7*r.rng.Float64()
	}

	rx = int64(r.rxRate*load*noise(r.rng)) + keepAlive(r.rng, secs)
	tx = int64(r.txRate*load*noise(r.rng)) + keepAlive(r.rng, secs)
	return tx, rx
}

// reading returns what the router reports at t, and moves its radio on.
func (r *router) reading(t time.Time) Reading {
	if r.rng.Float64() < handoverProb {
		r.handover(false)
	}
	rsrp := math.Round(r.rsrp.next(r.rng))
	rssi := clamp(math.Round(rsrp+19+2*r.rng.NormFloat64()), -100, -50)

	rd := r.id
	rd.Time = t
	rd.Uptime = r.uptime
	rd.Counters = Counters{TxBytes: r.tx, RxBytes: r.rx}
	rd.NetworkType = r.model.network
	if rd.NetworkType != "LTE" && r.rng.Float64() < fallbackProb {
		rd.NetworkType = "LTE"
	}
	rd.Cell = Cell{
		TAC:  fmt.Sprint(r.tac),
		CID:  fmt.Sprint(r.cid),
		RSRP: rsrp,
		RSRQ: math.Round(r.rsrq.next(r.rng)),
		SINR: math.Round(r.sinr.next(r.rng)*10) / 10,
		RSSI: rssi,
	}
	return rd
}

// diurnal is the traffic factor at t (UTC): low at night, a daytime
// shoulder and an evening peak around 20:30.
func diurnal(t time.Time) float64 {
	h := float64(t.Hour()) + float64(t.Minute())/60
	return 0.15 + 0.45*bump(h, 13, 4) + 1.2*bump(h, 20.5, 2.5)
}

// bump is a bell of width w hours around hour c, on the 24 h circle.
func bump(h, c, w float64) float64 {
	d := math.Abs(h - c)
	d = min(d, 24-d)
	return math.Exp(-d * d / (2 * w * w))
}

// noise is a log-normal factor around 1.
func noise(rng *rand.Rand) float64 {
	return math.Exp(0.35 * rng.NormFloat64())
}

// keepAlive returns the few bytes an idle LTE link moves in secs seconds.
func keepAlive(rng *rand.Rand, secs int64) int64 {
	return 64 + rng.Int64N(4*secs+1)
}

// logUniform draws from [lo, hi) with a uniform logarithm.
func logUniform(rng *rand.Rand, lo, hi float64) float64 {
	return lo * math.Pow(hi/lo, rng.Float64())
}

// cgnatIP draws a host address from the carrier-grade NAT range
// 100.64.0.0/10.
func cgnatIP(rng *rand.Rand) string {
	return fmt.Sprintf("100.%d.%d.%d", 64+rng.IntN(64), rng.IntN(256), 1+rng.IntN(254))
}

// withLuhn appends the Luhn check digit to a string of digits.
func withLuhn(digits string) string {
	sum := 0
	double := true // the digit left of the check digit is doubled
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return digits + string(rune('0'+(10-sum%10)%10))
}

// walk is a mean-reverting random walk within [lo, hi].
type walk struct {
	v, home, lo, hi, step float64
}

// newWalk starts a walk at a home drawn from [homeLo, homeHi].
func newWalk(rng *rand.Rand, lo, hi, homeLo, homeHi, step float64) walk {
	home := homeLo + (homeHi-homeLo)*rng.Float64()
	return walk{v: home, home: home, lo: lo, hi: hi, step: step}
}

// next moves the walk one step and returns its value.
func (w *walk) next(rng *rand.Rand) float64 {
	w.v += 0.15*(w.home-w.v) + w.step*rng.NormFloat64()
	w.v = clamp(w.v, w.lo, w.hi)
	return w.v
}

// clamp limits v to [lo, hi].
func clamp(v, lo, hi float64) float64 {
	return min(max(v, lo), hi)
}
