package bench

import "syscall"

// peakRSSMB returns the process's peak resident set in MiB (Linux reports
// ru_maxrss in KiB), or 0 when getrusage fails.
func peakRSSMB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024
}
