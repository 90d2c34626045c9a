package plugin

import (
	"context"
	"fmt"
	"strings"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5"
)

// variableRoutersSQL lists the routers for the router variable, by name.
const variableRoutersSQL = `SELECT coalesce(nullif(name, ''), serial) AS text, serial AS value
FROM router_latest
ORDER BY 1, 2`

// variablePropertiesSQL lists the properties some router serves now.
const variablePropertiesSQL = `SELECT DISTINCT property AS text, property AS value
FROM router_properties_current
ORDER BY 1`

// variableSources answer each value of the variable option.
var variableSources = map[string]func(context.Context, *Datasource) ([][2]string, string, error){
	"routers":    routerValues,
	"properties": propertyValues,
}

// variableOptions are the options of variable.
type variableOptions struct {
	Variable string `json:"variable"`
}

func (o *variableOptions) normalize() error {
	o.Variable = strings.TrimSpace(o.Variable)
	if o.Variable == "" {
		o.Variable = "routers"
	}
	if _, ok := variableSources[o.Variable]; !ok {
		return fmt.Errorf("variable %q: want routers or properties", o.Variable)
	}
	return nil
}

var variableDoc = OptionDoc{
	Name: "variable", Type: "string", Default: "routers", Values: []string{"routers", "properties"},
	Description: "which values: routers (text is the name, value the serial) or properties",
}

// runVariable answers variable: a frame of text and value fields, which
// Grafana reads as the variable's options.
func runVariable(ctx context.Context, d *Datasource,
	r request[variableOptions]) (data.Frames, error) {
	values, sql, err := variableSources[r.Opts.Variable](ctx, d)
	if err != nil {
		return nil, err
	}
	texts, vals := make([]string, len(values)), make([]string, len(values))
	for i, v := range values {
		texts[i], vals[i] = v[0], v[1]
	}
	frame := data.NewFrame(r.Opts.Variable,
		data.NewField("text", nil, texts),
		data.NewField("value", nil, vals),
	).SetMeta(newMeta(data.FrameTypeTable, sql))
	return data.Frames{frame}, nil
}

// routerValues lists every router as name and serial.
func routerValues(ctx context.Context, d *Datasource) ([][2]string, string, error) {
	return textValues(ctx, d, variableRoutersSQL)
}

// propertyValues lists the properties routers serve now, by name.
func propertyValues(ctx context.Context, d *Datasource) ([][2]string, string, error) {
	return textValues(ctx, d, variablePropertiesSQL)
}

// textValues runs sql, which selects text and value, and returns its rows.
func textValues(ctx context.Context, d *Datasource, sql string) ([][2]string, string, error) {
	rows, _, err := selectAll(ctx, d, sql, nil,
		func(row pgx.CollectableRow) ([2]string, error) {
			var v [2]string
			err := row.Scan(&v[0], &v[1])
			return v, err
		})
	return rows, sql, err
}
