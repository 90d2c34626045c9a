package plugin_test

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestDatasource_AlertSlowQueries checks that a query running longer than
// the threshold is counted, and that db_activity shows no query text.
func TestDatasource_AlertSlowQueries(t *testing.T) {
	t.Parallel()
	dsn := fixtureDB(t)
	ds := newDatasource(t, dsn, map[string]any{"cacheTTLSeconds": 0})

	slow := adminConn(t, dsn)
	done := make(chan error, 1)
	go func() {
		_, err := slow.Exec(context.Background(), "SELECT pg_sleep(3)")
		done <- err
	}()

	q := dataQuery("A", "alert_slow_queries", `{"thresholdSeconds": 1}`, time.Minute)
	var count int64
	for deadline := time.Now().Add(2700 * time.Millisecond); count == 0 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		count = mustFrames(t, ds, q)[0].Fields[0].At(0).(int64)
	}
	if count != 1 {
		t.Errorf("%d slow queries while one sleeps, want 1", count)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := mustFrames(t, ds, q)[0].Fields[0].At(0).(int64); n != 0 {
		t.Errorf("%d slow queries after it ended, want 0", n)
	}

	r := runQuery(t, ds, rawQuery("SELECT * FROM db_activity()", "table"))
	if r.Error != nil {
		t.Fatal(r.Error)
	}
	var cols []string
	for _, f := range r.Frames[0].Fields {
		cols = append(cols, f.Name)
	}
	if want := []string{"pid", "application_name", "state", "duration_seconds"}; !slices.Equal(cols, want) {
		t.Errorf("db_activity columns %v, want %v", cols, want)
	}
}
