package main

import (
	"runtime"
	"strings"
)

// procs decides how many Ps (GOMAXPROCS) keel serves with and how many
// password hashes run at once, given the cores Go found (runtime.GOMAXPROCS
// before keel changes it: the CPUs, or the container's CPU limit, or the
// GOMAXPROCS variable).
//
// By default keel runs one P more than the cores and hashes on at most as
// many goroutines as cores. An argon2id hash is ~20 ms of CPU that Go
// preempts only every 10 ms, so with as many Ps as hashes a flood of logins
// holds every P and other requests wait for a preemption slice (their p99
// grew to 10× on 2 cores). The spare P lets the Go scheduler run them at
// once, and the kernel shares the cores between its threads in slices of a
// few ms. Logins waiting for a hash slot are parked on a channel and hold no
// P. Logins per second stay at what the cores can hash (bench/README.md).
//
// KEEL_GOMAXPROCS overrides the Ps; a GOMAXPROCS variable in the
// environment is respected as is (no spare P). KEEL_MAX_CONCURRENT_HASHES
// overrides the hashes. Setting GOMAXPROCS stops Go from following later
// changes of a container's CPU limit; keel reads the limit once, at start.
func procs(c config, cores int, env lookupFunc) (ps, hashes int) {
	ps = cores + 1
	if v, ok := env("GOMAXPROCS"); ok && strings.TrimSpace(v) != "" {
		ps = cores
	}
	if c.Procs > 0 {
		ps = c.Procs
	}
	hashes = cores
	if c.MaxHashes > 0 {
		hashes = c.MaxHashes
	}
	return ps, hashes
}

// setProcs applies procs to the process and the config: GOMAXPROCS, and
// c.MaxHashes when it was left to the default.
func setProcs(c *config, env lookupFunc) {
	ps, hashes := procs(*c, runtime.GOMAXPROCS(0), env)
	if ps != runtime.GOMAXPROCS(0) {
		runtime.GOMAXPROCS(ps)
	}
	c.MaxHashes = hashes
}
