package plugin_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestDatasource_GuestDataStaysOut runs the guest Wi-Fi query types over
// the fixture, whose portal rows carry guest e-mails, names and MACs, and
// requires none of those to reach a frame.
func TestDatasource_GuestDataStaysOut(t *testing.T) {
	t.Parallel()
	ds := newDatasource(t, fixtureDB(t), nil)

	for _, qt := range []string{"guest_sessions", "guest_session_summary",
		"guest_property_summary", "dlq_depth",
		"dlq_events", "portal_inbox", "alert_dlq_depth", "alert_inbox_lag"} {
		t.Run(qt, func(t *testing.T) {
			frames := mustFrames(t, ds, dataQuery("A", qt, `{}`, time.Hour))
			raw, err := json.Marshal(frames)
			if err != nil {
				t.Fatal(err)
			}
			for _, personal := range []string{"@example.com", "Test Guest", "02:00:00:AA"} {
				if strings.Contains(string(raw), personal) {
					t.Errorf("the frames hold guest data %q", personal)
				}
			}
		})
	}
}
