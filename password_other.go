//go:build !linux

package keel

// threadPriorities is false: hashes run on the calling goroutine.
const threadPriorities = false

// lowerThreadPriority does nothing outside Linux, where a thread's priority
// cannot be set apart from its process's.
func lowerThreadPriority(nice int) {}
