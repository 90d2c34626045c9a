package plugin_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/experimental"

	"github.com/routerlogger/routerlogger/internal/db"
	"github.com/routerlogger/routerlogger/internal/pgtest"
)

// TestDatasource_Timescale loads the fixture day into a TimescaleDB
// database and checks that the health check says so and that every query
// type answers exactly what it answers on plain PostgreSQL (the golden
// files), raw SQL's $__timeGroup using time_bucket.
func TestDatasource_Timescale(t *testing.T) {
	t.Parallel()
	cluster := pgtest.StartTimescale(t)
	loadFixture(t, cluster.DSN, db.TimescaleOn)
	ds := newDatasource(t, cluster.DSN, nil)

	res := checkHealth(t, ds)
	if res.Status != backend.HealthStatusOk || !strings.Contains(res.Message, "(TimescaleDB 2.") {
		t.Errorf("health %s: %s, want OK on TimescaleDB", res.Status, res.Message)
	}

	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			r := runQuery(t, ds, dataQuery("A", c.queryType, c.opts, c.interval))
			if r.Error != nil {
				t.Fatalf("per-query error: %v", r.Error)
			}
			if c.queryType != "raw_sql" {
				experimental.CheckGoldenJSONResponse(t, goldenDir, c.name, &r, false)
				return
			}
			sql := r.Frames[0].Meta.ExecutedQueryString
			if strings.Contains(c.opts, "timeGroup") && !strings.Contains(sql, "time_bucket(") {
				t.Errorf("executed %s, want time_bucket", sql)
			}
			if got, want := framesData(t, &r), goldenData(t, c.name); !reflect.DeepEqual(got, want) {
				t.Errorf("frames differ from the plain golden file:\n%v\nwant\n%v", got, want)
			}
		})
	}
}

// framesData is the JSON of a response's frames without their metadata.
func framesData(t testing.TB, r *backend.DataResponse) any {
	t.Helper()
	raw, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return stripMeta(t, raw)
}

// goldenData is framesData of a golden file.
func goldenData(t testing.TB, name string) any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(goldenDir, name+".jsonc"))
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(string(raw), "🌟 This was machine generated.  Do not edit. 🌟")
	return stripMeta(t, []byte(parts[len(parts)-1]))
}

func stripMeta(t testing.TB, raw []byte) any {
	t.Helper()
	var resp struct {
		Frames []struct {
			Schema map[string]any `json:"schema"`
			Data   any            `json:"data"`
		} `json:"frames"`
	}
	if err := json.Unmarshal(raw, &resp); err != nil {
		t.Fatalf("response JSON: %v", err)
	}
	var out []any
	for _, f := range resp.Frames {
		delete(f.Schema, "meta")
		out = append(out, f.Schema, f.Data)
	}
	return out
}
