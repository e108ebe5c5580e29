//go:build unix

package httpapi_test

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the process has used, user and system, in
// all its threads (the garbage collector's too): what the load harness
// counts per request.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
