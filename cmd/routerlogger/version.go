package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func init() {
	commands["version"] = command{"print the version", runVersion}
}

func runVersion(_ context.Context, e *env, args []string) error {
	f := newFlags(e, "version", "version")
	if err := f.parse(args); err != nil {
		return err
	}
	rev := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				rev = " " + s.Value
			}
		}
	}
	fmt.Fprintf(e.stdout, "routerlogger %s%s %s\n", version, rev, runtime.Version())
	return nil
}
