//go:build !linux

package priority

// threadPriorities is false: Run runs f on the calling goroutine.
const threadPriorities = false

// lowerThreadPriority does nothing outside Linux, where a thread's priority
// cannot be set apart from its process's.
func lowerThreadPriority(nice int) {}
