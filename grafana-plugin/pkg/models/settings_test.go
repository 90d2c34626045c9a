package models_test

import (
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/routerlogger/routerlogger/grafana-plugin/pkg/models"
)

func TestLoadSettings(t *testing.T) {
	defaults := models.Settings{
		Host: "127.0.0.1:5432", Database: "routerlogger", User: "routerlogger_grafana", SSLMode: "disable",
		QueryTimeoutSeconds: 10, MaxRows: 10000, MaxOpenConns: 10, CacheTTLSeconds: 10, OfflineAfterMinutes: 30,
	}
	cases := []struct {
		name     string
		jsonData string
		secure   map[string]string
		want     func(s *models.Settings)
	}{
		{"empty means defaults", ``, nil, func(*models.Settings) {}},
		{"contract example", `{"host": "127.0.0.1:5432", "database": "routerlogger", "user": "routerlogger_grafana",
			"sslmode": "disable", "queryTimeoutSeconds": 10, "maxRows": 10000, "maxOpenConns": 10,
			"cacheTTLSeconds": 10, "offlineAfterMinutes": 30}`, map[string]string{"password": "s3cret"},
			func(s *models.Settings) { s.Password = "s3cret" }},
		{"numbers as strings", `{"maxRows": "500", "cacheTTLSeconds": "0", "maxOpenConns": 4.0}`, nil,
			func(s *models.Settings) { s.MaxRows, s.CacheTTLSeconds, s.MaxOpenConns = 500, 0, 4 }},
		{"blank and null are defaults", `{"host": " ", "maxRows": null, "user": ""}`, nil, func(*models.Settings) {}},
		{"host without port", `{"host": "db.example"}`, nil, func(s *models.Settings) { s.Host = "db.example:5432" }},
		{"ipv6 host", `{"host": "[::1]:6543"}`, nil, func(s *models.Settings) { s.Host = "[::1]:6543" }},
		{"password only from secure data", `{"password": "plain"}`, nil, func(*models.Settings) {}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := models.LoadSettings(backend.DataSourceInstanceSettings{
				JSONData: []byte(c.jsonData), DecryptedSecureJSONData: c.secure})
			if err != nil {
				t.Fatal(err)
			}
			want := defaults
			c.want(&want)
			if got != want {
				t.Errorf("got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestLoadSettings_Errors(t *testing.T) {
	cases := []struct{ name, jsonData, want string }{
		{"not JSON", `{`, "datasource jsonData:"},
		{"timeout too long", `{"queryTimeoutSeconds": 301}`,
			"queryTimeoutSeconds 301: out of range (allowed 1 to 300)"},
		{"no rows", `{"maxRows": 0}`, "maxRows 0: out of range (allowed 1 to 1000000)"},
		{"fraction", `{"maxOpenConns": 2.5}`, "maxOpenConns 2.5: want a whole number"},
		{"word", `{"cacheTTLSeconds": "ten"}`, `cacheTTLSeconds "ten": want a whole number`},
		{"negative cache", `{"cacheTTLSeconds": -1}`, "cacheTTLSeconds -1: out of range (allowed 0 to 3600)"},
		{"offline", `{"offlineAfterMinutes": 0}`, "offlineAfterMinutes 0: out of range"},
		{"sslmode", `{"sslmode": "on"}`, `sslmode "on": want one of disable, allow, prefer, require`},
		{"bad port", `{"host": "db:99999"}`, `host "db:99999": port "99999" is not a number from 1 to 65535`},
		{"host with a path", `{"host": "db/x:5432"}`, `host "db/x:5432": want host:port`},
		{"user not a string", `{"user": 5}`, "user 5: want a string"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := models.LoadSettings(backend.DataSourceInstanceSettings{JSONData: []byte(c.jsonData)})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestSettings_Durations(t *testing.T) {
	s := models.Settings{Host: "h:6000", QueryTimeoutSeconds: 3, CacheTTLSeconds: 0, OfflineAfterMinutes: 30}
	if s.HostName() != "h" || s.Port() != 6000 || s.QueryTimeout().Seconds() != 3 || s.CacheTTL() != 0 ||
		s.OfflineAfter().Minutes() != 30 {
		t.Errorf("%s %d %s %s %s", s.HostName(), s.Port(), s.QueryTimeout(), s.CacheTTL(), s.OfflineAfter())
	}
}
