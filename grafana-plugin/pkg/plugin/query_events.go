package plugin

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5"
)

// eventsSQL lists one row per event of router_events in the range.
const eventsSQL = `SELECT e.time, e.serial, e.name, ev AS event
FROM router_events e, unnest(e.events) AS ev
WHERE e.time >= $1 AND e.time < $2
  AND (cardinality($3::text[]) = 0 OR e.serial = ANY($3))
  AND (cardinality($4::text[]) = 0 OR ev = ANY($4))
ORDER BY e.time, e.serial, ev`

// eventTexts are the events sample_events names, with the sentence the
// annotation shows.
var eventTexts = map[string]string{
	"reboot": "rebooted; its counters restarted from zero",
	"glitch": "reported a counter below its last value while uptime rose; " +
		"the reading was held as suspect",
	"gap":          "sent no reading for more than 10 minutes before this one",
	"late":         "sent this reading late; it was placed in time order and its successor recomputed",
	"reset":        "reset its counters without rebooting",
	"wrap":         "wrapped a 32-bit counter",
	"no_timestamp": "sent a reading without a timestamp; the time it was received is used",
}

// eventNames lists eventTexts' keys in a fixed order, for messages and docs.
var eventNames = []string{"reboot", "glitch", "gap", "late", "reset", "wrap", "no_timestamp"}

// eventsOptions are the options of events.
type eventsOptions struct {
	routerFilter
	Events []string `json:"events"`
}

func (o *eventsOptions) normalize() error {
	if err := o.routerFilter.normalize(); err != nil {
		return err
	}
	var out []string
	for _, e := range o.Events {
		e = strings.ToLower(strings.TrimSpace(e))
		if _, ok := eventTexts[e]; !ok {
			return fmt.Errorf("events: %q is not one of %s", e, strings.Join(eventNames, ", "))
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	o.Events = out
	return nil
}

var (
	eventRoutersDoc = OptionDoc{
		Name: "routers", Type: "string[]", Default: []string{},
		Description: "serials whose events to show; empty means every router",
	}
	eventNamesDoc = OptionDoc{
		Name: "events", Type: "string[]", Default: []string{}, Values: eventNames,
		Description: "which events; empty means all",
	}
)

type eventRow struct {
	time         time.Time
	serial, name string
	event        string
}

// runEvents answers events: a frame of time, serial, name, event and a
// sentence saying what happened, usable as annotations.
func runEvents(ctx context.Context, d *Datasource, r request[eventsOptions]) (data.Frames, error) {
	events := r.Opts.Events
	if events == nil {
		events = []string{}
	}
	args := []any{r.TimeRange.From, r.TimeRange.To, r.Opts.serials(), events}

	rows, cut, err := selectAll(ctx, d, eventsSQL, args,
		func(row pgx.CollectableRow) (eventRow, error) {
			var e eventRow
			var name *string
			err := row.Scan(&e.time, &e.serial, &name, &e.event)
			e.name = labelName(e.serial, name)
			return e, err
		})
	if err != nil {
		return nil, err
	}

	n := len(rows)
	times, serials, names := make([]time.Time, n), make([]string, n), make([]string, n)
	evs, texts := make([]string, n), make([]string, n)
	for i, e := range rows {
		times[i], serials[i], names[i], evs[i] = e.time.UTC(), e.serial, e.name, e.event
		texts[i] = e.name + " " + eventTexts[e.event]
		if _, known := eventTexts[e.event]; !known {
			texts[i] = e.name + ": " + e.event
		}
	}
	frame := data.NewFrame("events",
		timeField(times),
		field("serial", "Serial", "", serials),
		field("name", "Name", "", names),
		field("event", "Event", "", evs),
		field("text", "Text", "", texts),
	).SetMeta(newMeta(data.FrameTypeTable, eventsSQL))
	return truncated(data.Frames{frame}, cut, d.settings.MaxRows), nil
}
