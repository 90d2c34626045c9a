// Package config resolves the settings of every routerlogger subcommand from
// command-line flags and environment variables.
//
// Each setting is registered once on a [Set], which adds a flag to the
// subcommand's [flag.FlagSet] and remembers a list of environment variables.
// After the flag set is parsed, [Set.Resolve] fills every setting with one
// stated precedence:
//
//  1. the flag, when it was given on the command line (even if empty);
//  2. otherwise the first listed environment variable that is set and
//     non-empty (an env var set to "" counts as unset);
//  3. otherwise the default.
//
// There is no config file yet. Every value is parsed and range-checked; a bad
// value is reported as one [*Error] line naming the flag or variable that
// supplied it, the value (secrets redacted) and what is allowed. Nothing ever
// falls back silently to a default.
//
// Durations use Go syntax ("500ms", "30s", "1m30s"). A bare number other than
// "0" is rejected rather than guessed to mean seconds, so "30" must be
// written "30s".
package config

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

// SourceDefault is what [Set.Source] returns for a setting that neither a
// flag nor an environment variable supplied.
const SourceDefault = "default"

// Set is a group of settings registered on one flag set. It is not safe for
// concurrent use; build and resolve it from one goroutine, then read the
// returned pointers freely.
type Set struct {
	fs      *flag.FlagSet
	getenv  func(string) string
	entries []*entry
	byName  map[string]*entry
}

// entry is one registered setting.
type entry struct {
	name   string
	envs   []string
	def    string
	flag   *flagValue
	parse  func(raw string) error // stores the parsed value; error text is the reason
	redact func(raw string) string
	source string
}

// NewSet returns a Set registering its flags on fs and reading environment
// variables through getenv; a nil getenv means [os.Getenv].
func NewSet(fs *flag.FlagSet, getenv func(string) string) *Set {
	if getenv == nil {
		getenv = os.Getenv
	}

	return &Set{fs: fs, getenv: getenv, byName: map[string]*entry{}}
}

// Resolve fills every registered setting from its flag, environment variables
// or default, in that order of precedence. Call it after the flag set has
// been parsed. It stops at the first bad value, in registration order, and
// returns it as an [*Error].
func (s *Set) Resolve() error {
	if !s.fs.Parsed() {
		panic("config: Resolve called before the flag set was parsed")
	}

	for _, e := range s.entries {
		name, raw := s.lookup(e)
		if err := e.parse(raw); err != nil {
			return &Error{Name: name, Value: e.redact(raw), Reason: err.Error()}
		}
		e.source = name
	}

	return nil
}

// lookup returns where the setting's raw value comes from and the value.
func (s *Set) lookup(e *entry) (name, raw string) {
	if e.flag.set {
		return "--" + e.name, e.flag.raw
	}

	for _, env := range e.envs {
		if v := s.getenv(env); v != "" {
			return env, v
		}
	}

	return SourceDefault, e.def
}

// Envs returns the names of all registered environment variables, in
// registration order and without duplicates.
func (s *Set) Envs() []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range s.entries {
		for _, env := range e.envs {
			if !seen[env] {
				seen[env] = true
				out = append(out, env)
			}
		}
	}

	return out
}

// Source reports what supplied the named setting at the last successful
// [Set.Resolve]: "--name" for the flag, the environment variable's name, or
// [SourceDefault]. It returns "" for an unknown or unresolved setting. Use it
// to name the setting in errors found after Resolve, e.g. a missing value.
func (s *Set) Source(name string) string {
	e, ok := s.byName[name]
	if !ok {
		return ""
	}

	return e.source
}

// add registers a setting and its flag. It panics on a default that its own
// parser rejects, since that is a programming error.
func (s *Set) add(e *entry, usage string, isBool bool) {
	if err := e.parse(e.def); err != nil {
		panic(fmt.Sprintf("config: default %q of %s: %v", e.redact(e.def), e.name, err))
	}
	if e.redact == nil {
		e.redact = func(raw string) string { return raw }
	}

	e.flag = &flagValue{raw: e.def, isBool: isBool}
	s.fs.Var(e.flag, e.name, usageWithEnv(usage, e.envs))

	s.entries = append(s.entries, e)
	s.byName[e.name] = e
}

// usageWithEnv appends the environment variable names to a flag's usage.
func usageWithEnv(usage string, envs []string) string {
	if len(envs) == 0 {
		return usage
	}

	return fmt.Sprintf("%s (env %s)", usage, strings.Join(envs, ", "))
}

// flagValue is the [flag.Value] behind every setting: it only records the
// raw text, so that parsing and its error messages stay in [Set.Resolve].
type flagValue struct {
	raw    string
	set    bool
	isBool bool
}

// String returns the raw value; flag uses it at registration for the default.
func (v *flagValue) String() string {
	if v == nil {
		return ""
	}

	return v.raw
}

// Set records a value given on the command line.
func (v *flagValue) Set(raw string) error {
	v.raw = raw
	v.set = true

	return nil
}

// IsBoolFlag lets boolean settings be given as a bare --name.
func (v *flagValue) IsBoolFlag() bool { return v.isBool }
