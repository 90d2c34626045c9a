//go:build !race

package plugin_test

// buildFlags build the test's plugin executable as the test binary is
// built, so that go build reuses its compiled packages.
var buildFlags = []string{}
