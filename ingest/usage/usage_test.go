package usage_test

import (
	"testing"
	"time"

	"github.com/routerlogger/routerlogger/ingest/usage"
)

var t0 = time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)

func p(v int64) *int64 { return &v }

// rd builds a reading at minute m with uptime u (<0 for none) and counters.
func rd(m int, u int64, tx, rx *int64) usage.Reading {
	r := usage.Reading{Time: t0.Add(time.Duration(m) * time.Minute), Tx: tx, Rx: rx}
	if u >= 0 {
		r.Uptime = p(u)
	}
	return r
}

func deref(v *int64) any {
	if v == nil {
		return nil
	}
	return *v
}

func TestApply_Rules(t *testing.T) {
	tests := []struct {
		name    string
		bits    int
		rs      []usage.Reading
		wantTx  []any // settled tx delta per reading, nil for unknown
		wantRx  []any
		flagsAt int // reading whose flags are checked
		flags   usage.Flags
	}{
		{
			name:   "normal growth, first adds nothing",
			rs:     []usage.Reading{rd(0, 100, p(10), p(20)), rd(5, 400, p(15), p(50))},
			wantTx: []any{nil, int64(5)}, wantRx: []any{nil, int64(30)},
			flagsAt: 0, flags: usage.FlagFirst,
		},
		{
			name: "reboot by uptime counts the post-boot counter",
			rs: []usage.Reading{
				rd(0, 1000, p(5000), p(9000)), rd(5, 87, p(300), p(700)), rd(10, 387, p(400), p(900)),
			},
			wantTx: []any{nil, int64(300), int64(100)}, wantRx: []any{nil, int64(700), int64(200)},
			flagsAt: 1, flags: usage.FlagReboot,
		},
		{
			name: "reboot by uptime below elapsed with a counter fall",
			rs: []usage.Reading{
				rd(0, 100, p(5000), p(9000)), rd(60, 200, p(300), p(700)),
			},
			wantTx: []any{nil, int64(300)}, wantRx: []any{nil, int64(700)},
			flagsAt: 1, flags: usage.FlagReboot | usage.FlagGap,
		},
		{
			name: "glitch to zero with uptime rising is proven by the successor",
			rs: []usage.Reading{
				rd(0, 100, p(5000), p(9000)), rd(5, 400, p(0), p(0)), rd(10, 700, p(5100), p(9500)),
			},
			wantTx: []any{nil, int64(0), int64(100)}, wantRx: []any{nil, int64(0), int64(500)},
			flagsAt: 1, flags: usage.FlagTxGlitch | usage.FlagRxGlitch,
		},
		{
			name: "glitch without uptime",
			rs: []usage.Reading{
				rd(0, -1, p(5000), nil), rd(1, -1, p(0), nil), rd(2, -1, p(5003), nil),
			},
			wantTx: []any{nil, int64(0), int64(3)}, wantRx: []any{nil, nil, nil},
			flagsAt: 1, flags: usage.FlagTxGlitch,
		},
		{
			name: "fall then growth from the lower value is a reset without reboot",
			rs: []usage.Reading{
				rd(0, 100, p(5000), p(100)), rd(5, 400, p(40), p(200)), rd(10, 700, p(90), p(300)),
			},
			wantTx: []any{nil, int64(40), int64(50)}, wantRx: []any{nil, int64(100), int64(100)},
			flagsAt: 1, flags: usage.FlagTxReset,
		},
		{
			name: "repeated suspect value keeps the suspicion",
			rs: []usage.Reading{
				rd(0, -1, p(5000), nil), rd(1, -1, p(0), nil), rd(2, -1, p(0), nil), rd(3, -1, p(5010), nil),
			},
			wantTx: []any{nil, int64(0), int64(0), int64(10)}, wantRx: []any{nil, nil, nil, nil},
			flagsAt: 2, flags: usage.FlagTxGlitch,
		},
		{
			name: "declared 32-bit counter wraps",
			bits: 32,
			rs: []usage.Reading{
				rd(0, 100, p(wrapMinus(10)), nil), rd(5, 400, p(25), nil),
			},
			wantTx: []any{nil, int64(35)}, wantRx: []any{nil, nil},
			flagsAt: 1, flags: usage.FlagTxWrap,
		},
		{
			name: "64-bit counter passes 2^32 without wrapping",
			rs: []usage.Reading{
				rd(0, 100, p(wrapMinus(10)), nil), rd(5, 400, p(1<<32+25), nil),
			},
			wantTx: []any{nil, int64(35)}, wantRx: []any{nil, nil},
		},
		{
			name: "64-bit fall with rising uptime is a suspect, not a wrap",
			rs: []usage.Reading{
				rd(0, 100, p(wrapMinus(10)), nil), rd(5, 400, p(25), nil), rd(10, 700, p(wrapMinus(5)), nil),
			},
			wantTx: []any{nil, int64(0), int64(5)}, wantRx: []any{nil, nil, nil},
		},
		{
			name: "only tx leaves rx unknown",
			rs: []usage.Reading{
				rd(0, 100, p(10), p(10)), rd(5, 400, p(20), nil), rd(10, 700, p(30), p(40)),
			},
			wantTx: []any{nil, int64(10), int64(10)}, wantRx: []any{nil, nil, int64(30)},
		},
		{
			name: "reboot while a suspect is held settles it as a glitch",
			rs: []usage.Reading{
				rd(0, 1000, p(5000), nil), rd(5, 1300, p(70), nil), rd(10, 50, p(20), nil),
			},
			wantTx: []any{nil, int64(0), int64(20)}, wantRx: []any{nil, nil, nil},
			flagsAt: 1, flags: usage.FlagTxGlitch,
		},
		{
			name: "gap flags the reading that ends it",
			rs: []usage.Reading{
				rd(0, 100, p(10), nil), rd(11, 760, p(20), nil),
			},
			wantTx: []any{nil, int64(10)}, wantRx: []any{nil, nil},
			flagsAt: 1, flags: usage.FlagGap,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _, outside := usage.Replay(usage.State{}, tt.rs, usage.Options{CounterBits: tt.bits})
			if len(outside) != 0 {
				t.Fatalf("revisions outside the series: %v", outside)
			}
			for i, r := range res {
				if got := deref(r.TxDelta); got != tt.wantTx[i] {
					t.Errorf("reading %d: tx delta %v, want %v", i, got, tt.wantTx[i])
				}
				if got := deref(r.RxDelta); got != tt.wantRx[i] {
					t.Errorf("reading %d: rx delta %v, want %v", i, got, tt.wantRx[i])
				}
			}
			if tt.flags != 0 && res[tt.flagsAt].Flags != tt.flags {
				t.Errorf("reading %d flags %b, want %b", tt.flagsAt, res[tt.flagsAt].Flags, tt.flags)
			}
		})
	}
}

func wrapMinus(n int64) int64 { return 1<<32 - n }

// TestApply_LateResume shows that resuming from a stored state gives the
// same outcome as one pass: what the writer relies on for late readings.
func TestApply_LateResume(t *testing.T) {
	rs := []usage.Reading{
		rd(0, 100, p(1000), p(1000)), rd(5, 400, p(0), p(0)), rd(10, 700, p(1100), p(1200)),
		rd(15, 1000, p(1300), p(1300)),
	}
	whole, end, _ := usage.Replay(usage.State{}, rs, usage.Options{})

	var state usage.State
	var states []usage.State
	for _, r := range rs {
		state = usage.Apply(state, r, usage.Options{}).Next
		states = append(states, state)
	}
	if state.Tx != end.Tx || state.Rx != end.Rx {
		t.Fatalf("stepwise state %+v, replay state %+v", state, end)
	}

	for k := range rs {
		var prev usage.State
		if k > 0 {
			prev = states[k-1]
		}
		part, _, _ := usage.Replay(prev, rs[k:], usage.Options{})
		if got, want := usage.Total(part, usage.Tx), usage.Total(whole[k:], usage.Tx); got != want {
			t.Errorf("resume at %d: tx %d, want %d", k, got, want)
		}
	}
}
