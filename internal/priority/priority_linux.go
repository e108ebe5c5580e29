package priority

import "syscall"

// threadPriorities tells Run that a thread's nice value can be set.
const threadPriorities = true

// lowerThreadPriority sets the calling OS thread's nice value (Linux
// schedules threads, so this affects no other thread). A process already
// nicer than that keeps its priority: raising it needs privileges, and the
// error is ignored.
func lowerThreadPriority(nice int) {
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), nice)
}
