// Package promreg registers Prometheus collectors that several instances
// of one component share on a registry: the first registers it, the others
// get the registered one back, so their samples land in one series set
// instead of failing as duplicates.
package promreg

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Shared registers c on reg and returns it, or returns the collector of
// the same description already registered there. A nil reg leaves c
// unregistered. It fails when reg holds a different kind of collector
// under c's name.
func Shared[T prometheus.Collector](reg prometheus.Registerer, c T) (T, error) {
	if reg == nil {
		return c, nil
	}
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(T); ok {
			return existing, nil
		}
	}
	if err != nil {
		return c, fmt.Errorf("register metric: %w", err)
	}
	return c, nil
}
