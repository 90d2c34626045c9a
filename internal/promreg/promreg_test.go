package promreg_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/routerlogger/routerlogger/internal/promreg"
)

func TestShared(t *testing.T) {
	reg := prometheus.NewRegistry()
	newVec := func() *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "x_total", Help: "x"}, []string{"l"})
	}

	first, err := promreg.Shared(reg, newVec())
	if err != nil {
		t.Fatal(err)
	}
	second, err := promreg.Shared(reg, newVec())
	if err != nil {
		t.Fatal(err)
	}
	if first != second {
		t.Fatal("the second registration did not get the first collector back")
	}

	clash := prometheus.NewGauge(prometheus.GaugeOpts{Name: "x_total", Help: "x"})
	if _, err := promreg.Shared(reg, clash); err == nil {
		t.Fatal("a different collector under a registered name was accepted")
	}
	if c, err := promreg.Shared(nil, newVec()); err != nil || c == nil {
		t.Fatalf("nil registry: %v, %v", c, err)
	}
}
