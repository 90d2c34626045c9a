// Package usage holds the counter rules that turn a router's cumulative
// byte counters into exact usage deltas. It is pure: no database, no clock,
// no I/O. The writer stores what [Apply] returns and nothing else decides
// usage.
//
// Deltas are computed at ingest, one reading at a time in time order,
// rather than in an aggregate or with window functions at query time:
// continuous aggregates cannot use window functions, query-time windows are
// slow over months of samples, and neither can hold a suspect reading until
// its successor says what it was. Storing the delta with each sample lets
// the hourly and daily rollups be plain sums that stay correct when a late
// sample is inserted, because the writer then recomputes the deltas after
// it in the same transaction.
//
// A delta belongs to the reading that ends its interval: the bytes counted
// between 09:58 and 10:03 land in the 10:00 hour. The first reading of a
// router adds nothing. Tx and rx are judged each on its own; a reading that
// lacks a counter leaves that side unknown (nil), never zero.
//
// The rules, per counter, against the previous reading:
//   - normal: delta = current - last valid value;
//   - reboot: uptime went down, or the counter fell and uptime is below the
//     time since the previous reading; delta = the post-boot counter;
//   - 32-bit wrap: only for routers declared 32-bit, with uptime rising;
//     delta = 2^32 - previous + current. A 64-bit counter never wraps;
//   - glitch: the counter fell while uptime kept rising, or without uptime
//     information. The reading is held as suspect with delta 0. The next
//     reading decides: a value at or above the last valid one proves a
//     glitch (the suspect stays 0, the next delta is measured from the last
//     valid value); growth from the lower value proves a reset without
//     reboot (the suspect's delta becomes its own value, returned as a
//     [Revision]).
//
// Choices where the rules are silent: a repeat of the suspect value keeps
// the suspicion open and adds 0; a further fall below the suspect settles
// the older suspect as a glitch and holds the new reading instead; a reboot
// while a suspect is held settles it as a glitch (it already adds 0, which
// is also the reset outcome when the suspect was the usual fall to 0).
package usage

import (
	"time"
)

// wrap32 is the modulus of a 32-bit counter.
const wrap32 = int64(1) << 32

// DefaultGap is the default gap threshold: readings further apart than
// this flag the reading that ends the gap.
const DefaultGap = 600 * time.Second

// Flags marks what the rules saw in a reading. The values are stored in
// the samples table, so they must never be renumbered.
type Flags uint16

// The flag bits. Glitch and reset are kept per counter so a revision of
// one side does not disturb the other.
const (
	FlagFirst       Flags = 1 << 0 // the router's first reading: ends no interval
	FlagReboot      Flags = 1 << 1
	FlagTxWrap      Flags = 1 << 2
	FlagRxWrap      Flags = 1 << 3
	FlagTxGlitch    Flags = 1 << 4 // tx held as suspect, or proven a glitch
	FlagRxGlitch    Flags = 1 << 5
	FlagTxReset     Flags = 1 << 6 // tx suspect proven a reset without reboot
	FlagRxReset     Flags = 1 << 7
	FlagGap         Flags = 1 << 8
	FlagLate        Flags = 1 << 9  // arrived after a newer reading; set by the writer
	FlagNoTimestamp Flags = 1 << 10 // carried no timestamp; set by the writer
)

// ArrivalFlags are set from how a reading arrived, not by the rules, and
// survive a recomputation.
const ArrivalFlags = FlagLate | FlagNoTimestamp

// Dir selects one of the two counters.
type Dir uint8

// The two counter directions.
const (
	Tx Dir = iota
	Rx
)

func (d Dir) String() string {
	if d == Tx {
		return "tx"
	}
	return "rx"
}

// Glitch returns the glitch flag of d.
func (d Dir) Glitch() Flags {
	if d == Tx {
		return FlagTxGlitch
	}
	return FlagRxGlitch
}

// Reset returns the reset flag of d.
func (d Dir) Reset() Flags {
	if d == Tx {
		return FlagTxReset
	}
	return FlagRxReset
}

func (d Dir) wrap() Flags {
	if d == Tx {
		return FlagTxWrap
	}
	return FlagRxWrap
}

// Counter is the state of one counter after a reading.
type Counter struct {
	// Known is set once a valid value has been seen.
	Known bool
	// Base is the last valid value: the one the next delta is measured from.
	Base int64
	// Pending is set while a suspect reading waits for its successor.
	Pending bool
	// PendingValue and PendingAt are the suspect's value and time.
	PendingValue int64
	PendingAt    time.Time
}

// State is what the rules remember of a router after a reading. The writer
// stores it with every sample, so that a late reading can resume from its
// predecessor, and with the router's status row.
type State struct {
	// Seen is set once the router has a reading.
	Seen bool
	// Time and Uptime are those of the previous reading; Uptime is nil when
	// that reading did not report it.
	Time   time.Time
	Uptime *int64
	Tx     Counter
	Rx     Counter
}

// Reading is the part of a reading the rules look at.
type Reading struct {
	Time   time.Time
	Uptime *int64
	Tx     *int64
	Rx     *int64
}

// Options are the per-router settings the rules depend on.
type Options struct {
	// CounterBits is 32 for routers declared 32-bit; anything else is 64.
	CounterBits int
	// Gap is the gap threshold; zero means [DefaultGap].
	Gap time.Duration
}

// Outcome is how a suspect reading was settled.
type Outcome uint8

// The outcomes of a suspect.
const (
	Glitch Outcome = iota + 1 // the suspect adds nothing
	Reset                     // the suspect adds its own value
)

// Revision changes the stored delta of an earlier, suspect reading of the
// same router. It must be applied in the same transaction as the reading
// whose step produced it.
type Revision struct {
	At      time.Time
	Dir     Dir
	Delta   int64
	Outcome Outcome
}

// Step is the result of applying one reading.
type Step struct {
	// TxDelta and RxDelta are the usage the reading adds; nil when the
	// reading lacks that counter or it is the first known value.
	TxDelta   *int64
	RxDelta   *int64
	Flags     Flags
	Revisions []Revision
	// Next is the state after the reading.
	Next State
}

// Apply judges reading r against the state prev left by the previous
// reading in time order, and returns its deltas, flags and the new state.
func Apply(prev State, r Reading, opt Options) Step {
	step := Step{Next: prev}
	step.Next.Seen = true
	step.Next.Time = r.Time
	step.Next.Uptime = r.Uptime

	if !prev.Seen {
		step.Flags |= FlagFirst
		step.Next.Tx = first(prev.Tx, r.Tx)
		step.Next.Rx = first(prev.Rx, r.Rx)
		return step
	}

	gap := opt.Gap
	if gap <= 0 {
		gap = DefaultGap
	}
	if r.Time.Sub(prev.Time) > gap {
		step.Flags |= FlagGap
	}

	j := judge{prev: prev, r: r, opt: opt}
	if j.rebooted() {
		step.Flags |= FlagReboot
	}
	step.TxDelta, step.Next.Tx = j.counter(&step, Tx, prev.Tx, r.Tx)
	step.RxDelta, step.Next.Rx = j.counter(&step, Rx, prev.Rx, r.Rx)
	return step
}

// first records the first value of a counter, which ends no interval.
func first(c Counter, v *int64) Counter {
	if v == nil {
		return c
	}
	return Counter{Known: true, Base: *v}
}

// judge holds what one application of the rules compares against.
type judge struct {
	prev State
	r    Reading
	opt  Options
}

// rebooted reports whether the reading shows a reboot since prev.
func (j judge) rebooted() bool {
	if j.r.Uptime == nil {
		return false
	}
	if j.prev.Uptime != nil && *j.r.Uptime < *j.prev.Uptime {
		return true
	}

	// Uptime rose, but by less than the time that passed: the router came
	// back up within the interval. Only a counter fall makes that a reboot,
	// since clocks and uptimes drift by a few seconds.
	elapsed := int64(j.r.Time.Sub(j.prev.Time) / time.Second)
	return *j.r.Uptime < elapsed && (j.fell(j.prev.Tx, j.r.Tx) || j.fell(j.prev.Rx, j.r.Rx))
}

// fell reports whether value v is below the counter's last valid value.
func (j judge) fell(c Counter, v *int64) bool {
	return v != nil && c.Known && *v < c.Base
}

// uptimeRising reports whether both readings carry uptime and it did not
// go down.
func (j judge) uptimeRising() bool {
	return j.r.Uptime != nil && j.prev.Uptime != nil && *j.r.Uptime >= *j.prev.Uptime
}

// counter applies the rules to one counter and returns its delta and state.
func (j judge) counter(step *Step, d Dir, c Counter, v *int64) (*int64, Counter) {
	if v == nil {
		return nil, c
	}
	cur := *v

	if step.Flags&FlagReboot != 0 {
		// A held suspect already adds 0; settling it says so explicitly, so
		// that a recomputation after a late reading undoes an earlier reset.
		if c.Pending {
			rev := Revision{At: c.PendingAt, Dir: d, Delta: 0, Outcome: Glitch}
			step.Revisions = append(step.Revisions, rev)
		}
		return ptr(cur), Counter{Known: true, Base: cur}
	}
	if !c.Known {
		return nil, Counter{Known: true, Base: cur}
	}

	if c.Pending {
		return j.settle(step, d, c, cur)
	}
	if cur >= c.Base {
		return ptr(cur - c.Base), Counter{Known: true, Base: cur}
	}
	if j.opt.CounterBits == 32 && j.uptimeRising() && c.Base < wrap32 {
		step.Flags |= d.wrap()
		return ptr(wrap32 - c.Base + cur), Counter{Known: true, Base: cur}
	}

	step.Flags |= d.Glitch()
	held := Counter{Known: true, Base: c.Base, Pending: true, PendingValue: cur, PendingAt: j.r.Time}
	return ptr(0), held
}

// settle decides a held suspect with the value cur of the next reading.
func (j judge) settle(step *Step, d Dir, c Counter, cur int64) (*int64, Counter) {
	switch {
	case cur >= c.Base:
		rev := Revision{At: c.PendingAt, Dir: d, Delta: 0, Outcome: Glitch}
		step.Revisions = append(step.Revisions, rev)
		return ptr(cur - c.Base), Counter{Known: true, Base: cur}

	case cur > c.PendingValue:
		rev := Revision{At: c.PendingAt, Dir: d, Delta: c.PendingValue, Outcome: Reset}
		step.Revisions = append(step.Revisions, rev)
		return ptr(cur - c.PendingValue), Counter{Known: true, Base: cur}

	case cur == c.PendingValue:
		step.Flags |= d.Glitch()
		return ptr(0), c

	default:
		rev := Revision{At: c.PendingAt, Dir: d, Delta: 0, Outcome: Glitch}
		step.Revisions = append(step.Revisions, rev)
		step.Flags |= d.Glitch()
		held := c
		held.PendingValue = cur
		held.PendingAt = j.r.Time
		return ptr(0), held
	}
}

func ptr(v int64) *int64 { return &v }

// Result is the settled outcome of one reading of a series.
type Result struct {
	TxDelta *int64
	RxDelta *int64
	Flags   Flags
}

// Replay applies time-ordered readings rs from state prev, applies every
// revision to the reading it names, and returns the settled results, the
// final state and the revisions that named readings before rs.
func Replay(prev State, rs []Reading, opt Options) ([]Result, State, []Revision) {
	out := make([]Result, len(rs))
	index := make(map[time.Time]int, len(rs))
	var outside []Revision

	state := prev
	for i, r := range rs {
		step := Apply(state, r, opt)
		out[i] = Result{TxDelta: step.TxDelta, RxDelta: step.RxDelta, Flags: step.Flags}
		index[r.Time] = i
		state = step.Next

		for _, rev := range step.Revisions {
			k, ok := index[rev.At]
			if !ok {
				outside = append(outside, rev)
				continue
			}
			out[k] = out[k].revise(rev)
		}
	}
	return out, state, outside
}

// revise returns res with rev applied.
func (res Result) revise(rev Revision) Result {
	res.Flags = rev.Flags(res.Flags)
	if rev.Dir == Tx {
		res.TxDelta = ptr(rev.Delta)
	} else {
		res.RxDelta = ptr(rev.Delta)
	}
	return res
}

// Flags returns the flags f of the revised reading after rev.
func (rev Revision) Flags(f Flags) Flags {
	f &^= rev.Dir.Glitch() | rev.Dir.Reset()
	if rev.Outcome == Reset {
		return f | rev.Dir.Reset()
	}
	return f | rev.Dir.Glitch()
}

// Total sums the known deltas of one direction.
func Total(results []Result, d Dir) int64 {
	var sum int64
	for _, r := range results {
		p := r.TxDelta
		if d == Rx {
			p = r.RxDelta
		}
		if p != nil {
			sum += *p
		}
	}
	return sum
}

// eventNames are the names of the flags, as SQL's sample_events gives them.
var eventNames = []struct {
	f    Flags
	name string
}{
	{FlagReboot, "reboot"}, {FlagTxWrap | FlagRxWrap, "wrap"}, {FlagTxGlitch | FlagRxGlitch, "glitch"},
	{FlagTxReset | FlagRxReset, "reset"}, {FlagGap, "gap"}, {FlagLate, "late"},
	{FlagNoTimestamp, "no_timestamp"},
}

// Events names the events in f, each once, in a fixed order.
func (f Flags) Events() []string {
	var out []string
	for _, e := range eventNames {
		if f&e.f != 0 {
			out = append(out, e.name)
		}
	}
	return out
}
