package plugin_test

import (
	"os/exec"
	"strings"
	"testing"
)

// module is the repository's Go module.
const module = "github.com/routerlogger/routerlogger"

// TestPlugin_Dependencies checks that the plugin's code (tests aside)
// depends on none of RouterLogger's ingest or sync code, nor on its
// commands: it reads the database through the views only.
func TestPlugin_Dependencies(t *testing.T) {
	t.Parallel()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	out, err := exec.Command(goBin, "list", "-deps", module+"/grafana-plugin/pkg/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}

	forbidden := []string{module + "/ingest", module + "/sync", module + "/cmd"}
	var own int
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, module+"/grafana-plugin/") {
			own++
		}
		for _, f := range forbidden {
			if pkg == f || strings.HasPrefix(pkg, f+"/") {
				t.Errorf("the plugin depends on %s", pkg)
			}
		}
	}
	if own < 3 {
		t.Errorf("go list found %d plugin packages, want main, plugin and models:\n%s", own, out)
	}
}
