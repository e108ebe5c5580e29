// Package keel gives a Go program user accounts, authentication and a
// user-owned resource ("items").
package keel
