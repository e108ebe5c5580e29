package main

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
)

// versionCmd prints the module version, the commit and the Go version.
func versionCmd(_ context.Context, args []string, sio stdio, _ lookupFunc) error {
	fs := flagSet("version", sio.err, "version", nil)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{"version takes no arguments"}
	}
	info, ok := debug.ReadBuildInfo()
	_, err := fmt.Fprintln(sio.out, "keel "+describeBuild(info, ok))
	return err
}

// moduleVersion is keel's module version: v1.2.3 when built with
// `go install ...@v1.2.3`, "(devel)" when built from a checkout.
func moduleVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok || info.Main.Version == "" {
		return "(devel)"
	}
	return info.Main.Version
}

// describeBuild says which build this is: the module version, and the
// commit (with +dirty for local changes) and Go version when known.
func describeBuild(info *debug.BuildInfo, ok bool) string {
	if !ok || info == nil {
		return "(unknown build)"
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var extra []string
	var rev, modified, when string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		case "vcs.time":
			when = s.Value
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if modified == "true" {
			rev += "+dirty"
		}
		extra = append(extra, "commit "+rev)
	}
	if when != "" {
		extra = append(extra, when)
	}
	if info.GoVersion != "" {
		extra = append(extra, info.GoVersion)
	}
	if len(extra) == 0 {
		return v
	}
	return v + " (" + strings.Join(extra, ", ") + ")"
}
