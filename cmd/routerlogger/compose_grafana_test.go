package main

import (
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/routerlogger/routerlogger/dashboards"
)

// Where Grafana's image looks for plugins and provisioning files.
const (
	grafanaPluginDir       = "/var/lib/grafana/plugins/routerlogger-fleet-datasource"
	grafanaProvisioningDir = "/etc/grafana/provisioning"
	pluginID               = "routerlogger-fleet-datasource"
)

var grafanaImage = regexp.MustCompile(`^grafana/grafana:1[12]\.\d+\.\d+$`)

// TestCompose_Grafana checks the grafana service of docker-compose.yml, as
// far as it can be without a Docker engine: a pinned Grafana 11 or 12 image
// that loads our unsigned plugin from grafana-plugin/dist, the provisioning
// folder and the dashboards where the dashboard provider reads them, mounted
// folders that exist, and a provisioned datasource that reaches the
// timescaledb service with a password the service passes in.
func TestCompose_Grafana(t *testing.T) {
	c := loadCompose(t)
	g, ok := c.Services["grafana"]
	if !ok {
		t.Fatal("docker-compose.yml has no grafana service")
	}

	if !grafanaImage.MatchString(g.Image) {
		t.Errorf("grafana image %q, want grafana/grafana:<11.x.y or 12.x.y>", g.Image)
	}
	unsigned := strings.Split(g.Environment["GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS"], ",")
	if !slices.Contains(unsigned, pluginID) {
		t.Errorf("GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS %q does not list %s", unsigned, pluginID)
	}

	mounts := bindMounts(g.Volumes)
	wantMounts := map[string]string{
		grafanaPluginDir:         "./grafana-plugin/dist",
		grafanaProvisioningDir:   "./dashboards/provisioning",
		dashboardProviderPath(t): "./dashboards/json",
	}
	for target, src := range wantMounts {
		if mounts[target] != src {
			t.Errorf("grafana mounts %q at %s, want %s", mounts[target], target, src)
		}
	}
	for target, src := range mounts {
		checkMountSource(t, target, src)
	}

	checkGrafanaDatasource(t, c, g.Environment)
}

// loadCompose parses docker-compose.yml.
func loadCompose(t *testing.T) composeFile {
	t.Helper()
	raw, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// bindMounts maps each container path to its source, for short-syntax
// volumes such as ./src:/dst:ro and named ones such as data:/dst.
func bindMounts(volumes []string) map[string]string {
	out := map[string]string{}
	for _, v := range volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 {
			out[parts[1]] = parts[0]
		}
	}
	return out
}

// checkMountSource requires a bind-mounted folder to exist in the repo,
// except the plugin's dist folder, which exists only after make plugin.
func checkMountSource(t *testing.T, target, src string) {
	t.Helper()
	switch {
	case !strings.HasPrefix(src, "./"):
		return // a named volume
	case src == "./grafana-plugin/dist":
		checkPluginDist(t)
		return
	}
	if _, err := os.Stat(filepath.Join("..", "..", src)); err != nil {
		t.Errorf("grafana mounts %s at %s, which is missing: %v", src, target, err)
	}
}

// pluginExecutable is the backend binary's name without its _os_arch suffix.
const pluginExecutable = "gpx_routerlogger_fleet"

// checkPluginDist requires grafana-plugin/ to build what the grafana
// service mounts: the Makefile builds the backend executable and webpack
// writes the frontend into dist/. When dist/ has been built, its
// plugin.json must be the plugin the service allows unsigned.
func checkPluginDist(t *testing.T) {
	t.Helper()
	mk, err := os.ReadFile("../../grafana-plugin/Makefile")
	if err != nil {
		t.Errorf("grafana mounts grafana-plugin/dist, but grafana-plugin/Makefile, which "+
			"builds it, is missing: %v", err)
	} else if recipe := withoutComments(string(mk)); !strings.Contains(recipe, pluginExecutable) ||
		!strings.Contains(recipe, "dist") {
		t.Errorf("grafana-plugin/Makefile does not build %s into dist/, so the plugin Grafana "+
			"mounts has no backend", pluginExecutable)
	}
	wp, err := os.ReadFile("../../grafana-plugin/webpack.config.cjs")
	if err != nil || !strings.Contains(withoutComments(string(wp)), "'dist'") {
		t.Errorf("grafana-plugin/webpack.config.cjs does not write the frontend to dist/ (%v)", err)
	}

	raw, err := os.ReadFile("../../grafana-plugin/dist/plugin.json")
	if errors.Is(err, fs.ErrNotExist) {
		return // not built yet
	} else if err != nil {
		t.Fatal(err)
	}
	var pj struct {
		ID         string `json:"id"`
		Backend    bool   `json:"backend"`
		Alerting   bool   `json:"alerting"`
		Executable string `json:"executable"`
	}
	if err := json.Unmarshal(raw, &pj); err != nil {
		t.Fatalf("grafana-plugin/dist/plugin.json: %v", err)
	}
	if pj.ID != pluginID || !pj.Backend || !pj.Alerting || pj.Executable != pluginExecutable {
		t.Errorf("dist/plugin.json %+v: want id %s, backend and alerting, executable %s",
			pj, pluginID, pluginExecutable)
	}
}

// withoutComments drops # and // comment lines.
func withoutComments(s string) string {
	var keep []string
	for _, line := range strings.Split(s, "\n") {
		if l := strings.TrimSpace(line); !strings.HasPrefix(l, "#") && !strings.HasPrefix(l, "//") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

// dashboardProviderPath returns the folder the dashboard provider reads.
func dashboardProviderPath(t *testing.T) string {
	t.Helper()
	var f struct {
		Providers []struct {
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	readEmbeddedYAML(t, dashboards.DashboardProvisioning, &f)
	if len(f.Providers) != 1 || f.Providers[0].Options.Path == "" {
		t.Fatalf("%s: want one provider with options.path", dashboards.DashboardProvisioning)
	}
	return f.Providers[0].Options.Path
}

// checkGrafanaDatasource requires the provisioned datasource to name the
// timescaledb service on PostgreSQL's port and its database, and every
// variable its secrets read to be set on the grafana service.
func checkGrafanaDatasource(t *testing.T, c composeFile, grafanaEnv map[string]string) {
	t.Helper()
	var f struct {
		Datasources []struct {
			JSONData struct {
				Host     string `yaml:"host"`
				Database string `yaml:"database"`
			} `yaml:"jsonData"`
			SecureJSONData map[string]string `yaml:"secureJsonData"`
		} `yaml:"datasources"`
	}
	readEmbeddedYAML(t, dashboards.DatasourceProvisioning, &f)
	if len(f.Datasources) != 1 {
		t.Fatalf("%s: want one datasource", dashboards.DatasourceProvisioning)
	}
	ds := f.Datasources[0]

	host, port, err := net.SplitHostPort(ds.JSONData.Host)
	if _, ok := c.Services[host]; err != nil || !ok || host != "timescaledb" || port != "5432" {
		t.Errorf("datasource host %q, want the timescaledb service on 5432 (%v)",
			ds.JSONData.Host, err)
	}
	if db := c.Services["timescaledb"].Environment["POSTGRES_DB"]; ds.JSONData.Database != db {
		t.Errorf("datasource database %q, want the timescaledb service's %q",
			ds.JSONData.Database, db)
	}

	var vars []string
	for _, v := range ds.SecureJSONData {
		os.Expand(v, func(name string) string { vars = append(vars, name); return "" })
	}
	if len(vars) == 0 {
		t.Error("the datasource's secureJsonData reads no environment variable")
	}
	for _, name := range vars {
		if expand(grafanaEnv[name]) == "" {
			t.Errorf("the datasource reads $%s, which the grafana service does not set", name)
		}
	}
}

// readEmbeddedYAML decodes one of the dashboards package's files.
func readEmbeddedYAML(t *testing.T, name string, v any) {
	t.Helper()
	raw, err := dashboards.Files.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}
