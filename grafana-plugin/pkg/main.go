// Command gpx_routerlogger_fleet is the backend of the RouterLogger Grafana
// datasource. Grafana starts it and talks to it over gRPC; see package
// plugin.
package main

import (
	"os"

	"github.com/grafana/grafana-plugin-sdk-go/backend/datasource"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"

	"github.com/routerlogger/routerlogger/grafana-plugin/pkg/plugin"
)

func main() {
	err := datasource.Manage(plugin.ID, plugin.NewDatasource, datasource.ManageOpts{})
	if err != nil {
		log.DefaultLogger.Error("serve plugin", "error", err)
		os.Exit(1)
	}
}
