//go:build !linux

package keel

// lowerThreadPriority does nothing outside Linux, where a thread's priority
// cannot be set apart from its process's.
func lowerThreadPriority(nice int) {}
