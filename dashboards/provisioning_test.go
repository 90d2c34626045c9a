package dashboards_test

import (
	"encoding/json"
	"maps"
	"path"
	"slices"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/routerlogger/routerlogger/dashboards"
	"github.com/routerlogger/routerlogger/grafana-plugin/pkg/models"
)

type datasourceFile struct {
	APIVersion  int `yaml:"apiVersion"`
	Datasources []struct {
		Name           string            `yaml:"name"`
		Type           string            `yaml:"type"`
		UID            string            `yaml:"uid"`
		Access         string            `yaml:"access"`
		IsDefault      bool              `yaml:"isDefault"`
		Editable       bool              `yaml:"editable"`
		JSONData       map[string]any    `yaml:"jsonData"`
		SecureJSONData map[string]string `yaml:"secureJsonData"`
	} `yaml:"datasources"`
}

// TestProvisioning_Datasource checks the provisioned datasource against the
// plugin contract: name, type and uid, every jsonData setting with the
// compose database host, settings the plugin's own parser accepts, and the
// password taken from the environment.
func TestProvisioning_Datasource(t *testing.T) {
	var f datasourceFile
	readYAML(t, dashboards.DatasourceProvisioning, &f)
	if f.APIVersion != 1 || len(f.Datasources) != 1 {
		t.Fatalf("apiVersion %d with %d datasources, want 1 and 1", f.APIVersion, len(f.Datasources))
	}
	ds := f.Datasources[0]

	if ds.Name != "RouterLogger" || ds.Type != dsType || ds.UID != dsUID {
		t.Errorf("name %q type %q uid %q, want RouterLogger, %s, %s", ds.Name, ds.Type, ds.UID,
			dsType, dsUID)
	}
	want := map[string]any{
		"host": "timescaledb:5432", "database": "routerlogger", "user": "routerlogger_grafana",
		"sslmode": "disable", "queryTimeoutSeconds": 10, "maxRows": 10000, "maxOpenConns": 10,
		"cacheTTLSeconds": 10, "offlineAfterMinutes": 30,
	}
	if !maps.Equal(ds.JSONData, want) {
		t.Errorf("jsonData %v, want %v", ds.JSONData, want)
	}
	raw, err := json.Marshal(ds.JSONData)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := models.LoadSettings(backend.DataSourceInstanceSettings{JSONData: raw}); err != nil {
		t.Errorf("the plugin refuses the provisioned jsonData: %v", err)
	}
	wantSecure := map[string]string{"password": "$ROUTERLOGGER_GRAFANA_DB_PASSWORD"}
	if !maps.Equal(ds.SecureJSONData, wantSecure) {
		t.Errorf("secureJsonData %v, want %v", ds.SecureJSONData, wantSecure)
	}
}

type dashboardProviders struct {
	APIVersion int `yaml:"apiVersion"`
	Providers  []struct {
		Name                  string `yaml:"name"`
		OrgID                 int    `yaml:"orgId"`
		Folder                string `yaml:"folder"`
		Type                  string `yaml:"type"`
		DisableDeletion       bool   `yaml:"disableDeletion"`
		AllowUIUpdates        bool   `yaml:"allowUiUpdates"`
		UpdateIntervalSeconds int    `yaml:"updateIntervalSeconds"`
		Options               struct {
			Path                      string `yaml:"path"`
			FoldersFromFilesStructure bool   `yaml:"foldersFromFilesStructure"`
		} `yaml:"options"`
	} `yaml:"providers"`
}

// TestProvisioning_Dashboards checks the dashboard provider: one file
// provider reading an absolute folder (the compose file mounts json/ there;
// its test checks the mount) into a named Grafana folder.
func TestProvisioning_Dashboards(t *testing.T) {
	var f dashboardProviders
	readYAML(t, dashboards.DashboardProvisioning, &f)
	if f.APIVersion != 1 || len(f.Providers) != 1 {
		t.Fatalf("apiVersion %d with %d providers, want 1 and 1", f.APIVersion, len(f.Providers))
	}
	p := f.Providers[0]

	if p.Type != "file" || !path.IsAbs(p.Options.Path) || p.Folder == "" || p.Name == "" {
		t.Errorf("provider %q type %q path %q folder %q: want a named file provider with an "+
			"absolute path and a folder", p.Name, p.Type, p.Options.Path, p.Folder)
	}
}

// TestProvisioning_Folders requires the provisioning folder to hold only
// the kinds Grafana reads there.
func TestProvisioning_Folders(t *testing.T) {
	entries, err := dashboards.Files.ReadDir("provisioning")
	if err != nil {
		t.Fatal(err)
	}
	known := []string{"alerting", "dashboards", "datasources", "plugins"}
	for _, e := range entries {
		if !e.IsDir() || !slices.Contains(known, e.Name()) {
			t.Errorf("provisioning/%s: Grafana reads only the folders %v", e.Name(), known)
		}
	}
}
