// Package priority runs work on an OS thread of lower scheduling priority
// (a higher nice value), where the system lets a thread's priority differ
// from its process's: on Linux. keel hashes passwords this way, so that
// under a flood of logins other requests get the CPU first.
package priority

import "runtime"

// Run runs f on a goroutine of its own, locked to an OS thread whose nice
// value is nice, and waits for it. The kernel then runs the threads at the
// process's priority first instead of sharing the cores evenly with f;
// with no other work, f gets the whole CPU. The goroutine never unlocks
// its thread, so the thread, with its lowered priority, ends with it (a
// new thread costs microseconds). With nice below 1, or outside Linux, f
// runs on the calling goroutine.
func Run(nice int, f func()) {
	if nice < 1 || !threadPriorities {
		f()
		return
	}
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		lowerThreadPriority(nice)
		f()
		close(done)
	}()
	<-done
}
