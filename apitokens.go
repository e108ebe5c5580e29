package keel

// Scope is what a personal API token may do.
type Scope string

// The scopes.
const (
	// ScopeRead reads: every call that changes nothing.
	ScopeRead Scope = "read"
	// ScopeFull does what its user may do with a session, but for the
	// calls no token may make.
	ScopeFull Scope = "full"
)
