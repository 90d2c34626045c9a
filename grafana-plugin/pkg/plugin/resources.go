package plugin

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/resource/httpadapter"
	"github.com/jackc/pgx/v5"
)

// RouterRef is one router of the editor's router picker.
type RouterRef struct {
	Serial string `json:"serial"`
	Name   string `json:"name"`
}

// routersSQL lists the routers for the picker.
const routersSQL = `SELECT serial, coalesce(name, '') FROM router_latest ORDER BY serial`

// newResourceHandler serves the resources of the query editor:
//
//	GET routers      JSON list of {serial, name}
//	GET query-types  the query-type table: names, kinds and options
func newResourceHandler(d *Datasource) backend.CallResourceHandler {
	mux := http.NewServeMux()
	mux.HandleFunc("/routers", d.serveRouters)
	mux.HandleFunc("/query-types", serveQueryTypes)
	return httpadapter.New(mux)
}

// CallResource serves the editor's resources.
func (d *Datasource) CallResource(ctx context.Context, req *backend.CallResourceRequest,
	sender backend.CallResourceResponseSender) error {
	return d.resources.CallResource(ctx, req, sender)
}

func (d *Datasource) serveRouters(w http.ResponseWriter, r *http.Request) {
	if !onlyGet(w, r) {
		return
	}
	if d.settingsErr != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": d.settingsErr.Error()})
		return
	}
	routers, _, err := selectAll(r.Context(), d, routersSQL, nil,
		func(row pgx.CollectableRow) (RouterRef, error) {
			var ref RouterRef
			err := row.Scan(&ref.Serial, &ref.Name)
			return ref, err
		})
	if err != nil {
		status, msg := d.describe(r.Context(), err)
		writeJSON(w, int(status), map[string]string{"error": "routers: " + msg})
		return
	}
	if routers == nil {
		routers = []RouterRef{}
	}
	writeJSON(w, http.StatusOK, routers)
}

func serveQueryTypes(w http.ResponseWriter, r *http.Request) {
	if !onlyGet(w, r) {
		return
	}
	writeJSON(w, http.StatusOK, QueryTypes())
}

// onlyGet answers 405 to anything but GET.
func onlyGet(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet {
		return true
	}
	w.Header().Set("Allow", http.MethodGet)
	writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": r.Method + " not allowed; use GET"})
	return false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
