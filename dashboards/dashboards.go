// Package dashboards holds RouterLogger's Grafana material and its
// Prometheus rules: the dashboards (json/), Grafana's provisioning files for
// the datasource, the dashboards and the alert rules (provisioning/), and the
// alerting rules for the server's own metrics (prometheus/). The compose file
// mounts these folders into Grafana; [Files] embeds the same files so tests
// and tools read exactly what is deployed.
package dashboards

import "embed"

// Files holds json/*.json, provisioning/ and prometheus/, with paths
// relative to this folder, such as "prometheus/routerlogger-rules.yml".
//
//go:embed json/*.json provisioning prometheus
var Files embed.FS

// Paths of the files other packages read.
const (
	// PrometheusRules is the Prometheus rule file.
	PrometheusRules = "prometheus/routerlogger-rules.yml"
	// AlertRules is Grafana's alert rule provisioning file.
	AlertRules = "provisioning/alerting/routerlogger-alerts.yaml"
	// DatasourceProvisioning is Grafana's datasource provisioning file.
	DatasourceProvisioning = "provisioning/datasources/routerlogger.yaml"
	// DashboardProvisioning is Grafana's dashboard provider file.
	DashboardProvisioning = "provisioning/dashboards/routerlogger.yaml"
)
