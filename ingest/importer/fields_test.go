package importer_test

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/routerlogger/routerlogger/ingest/importer"
)

func TestParseMap(t *testing.T) {
	tests := []struct {
		name string
		spec string
		want map[string]string
		// errHas are substrings the error must contain; nil means no error.
		errHas []string
	}{
		{name: "brief example", spec: "time=Time,tx_bytes='Sent Bytes',rsrp=rsrp(dBm)",
			want: map[string]string{"timestamp": "Time", "counters.total_tx_bytes": "Sent Bytes",
				"cell.rsrp": "rsrp(dBm)"}},
		{name: "unquoted with spaces", spec: " time = Time , tx_bytes = Sent Bytes ",
			want: map[string]string{"timestamp": "Time", "counters.total_tx_bytes": "Sent Bytes"}},
		{name: "double quotes keep commas and spaces", spec: `rx="Received, Bytes ",time=t`,
			want: map[string]string{"counters.total_rx_bytes": "Received, Bytes ", "timestamp": "t"}},
		{name: "schema paths and case", spec: "TIMESTAMP=a,counters.total_rx_bytes=b,Cell.CID=c",
			want: map[string]string{"timestamp": "a", "counters.total_rx_bytes": "b", "cell.cid": "c"}},
		{name: "every short alias", spec: "rsrq=1,sinr=2,rssi=3,uptime=4,device_id=5,cell.tac=6," +
			"cell.lac=7,mcc=8,mnc=9,operator=10,network_type=11,wan_ip=12",
			want: map[string]string{"cell.rsrq": "1", "cell.sinr": "2", "cell.rssi": "3",
				"uptime": "4", "device_id": "5", "cell.tac": "6", "cell.lac": "7", "mcc": "8",
				"mnc": "9", "operator": "10", "network_type": "11", "wan_ip": "12"}},
		{name: "blank", spec: "  ", want: nil},
		{name: "unknown field", spec: "time=Time,speed=RATE",
			errHas: []string{`entry 2 "speed=RATE"`, `unknown field "speed"`, "allowed:",
				"counters.total_tx_bytes (tx_bytes, tx)", "cell.rsrp (rsrp)"}},
		{name: "no equals", spec: "time=Time,Sent Bytes",
			errHas: []string{`entry 2 "Sent Bytes"`, "want field=column"}},
		{name: "empty column", spec: "time=",
			errHas: []string{`entry 1 "time="`, "empty column name"}},
		{name: "empty field", spec: "=Time", errHas: []string{`entry 1 "=Time"`, "empty field name"}},
		{name: "empty entry", spec: "time=Time,,rx=r",
			errHas: []string{"entry 2", "empty entry"}},
		{name: "trailing comma", spec: "time=Time,", errHas: []string{"entry 2", "empty entry"}},
		{name: "unterminated quote", spec: "tx='Sent Bytes,time=Time",
			errHas: []string{"entry 1", "unterminated ' quote"}},
		{name: "text after quote", spec: "tx='Sent' Bytes,time=Time",
			errHas: []string{`entry 1 "tx='Sent' Bytes"`, "after the closing quote"}},
		{name: "alias mapped twice", spec: "time=Time,timestamp=Date",
			errHas: []string{`entry 2 "timestamp=Date"`, `already mapped to column "Time"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := importer.ParseMap(tt.spec)
			if tt.errHas != nil {
				checkError(t, err, tt.errHas...)
				return
			}
			if err != nil {
				t.Fatalf("ParseMap(%q): %v", tt.spec, err)
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("ParseMap(%q) = %v, want %v", tt.spec, got, tt.want)
			}
		})
	}
}

func TestLoadMapFile(t *testing.T) {
	tests := []struct {
		name   string
		text   string
		want   map[string]string
		errHas []string
	}{
		{name: "yaml", text: "time: Time\ntx_bytes: Sent Bytes\nrsrp: 'rsrp(dBm)'\n",
			want: map[string]string{"timestamp": "Time", "counters.total_tx_bytes": "Sent Bytes",
				"cell.rsrp": "rsrp(dBm)"}},
		{name: "json", text: `{"time": "Time", "cell.sinr": "snr"}`,
			want: map[string]string{"timestamp": "Time", "cell.sinr": "snr"}},
		{name: "unknown field", text: "time: Time\nspeed: RATE\n",
			errHas: []string{"map.yaml", `unknown field "speed"`, "allowed:"}},
		{name: "field twice by alias", text: "time: Time\ntimestamp: Date\n",
			errHas: []string{"map.yaml", "mapped twice"}},
		{name: "empty column", text: "time: ''\n", errHas: []string{"field time: empty column"}},
		{name: "not an object", text: "- time\n- Time\n",
			errHas: []string{"map.yaml", "want an object"}},
		{name: "empty", text: "# nothing\n",
			errHas: []string{"map.yaml", "no field: column pairs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "map.yaml")
			if err := os.WriteFile(path, []byte(tt.text), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := importer.LoadMapFile(path)
			if tt.errHas != nil {
				checkError(t, err, tt.errHas...)
				return
			}
			if err != nil {
				t.Fatalf("LoadMapFile: %v", err)
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("LoadMapFile = %v, want %v", got, tt.want)
			}
		})
	}

	t.Run("missing file", func(t *testing.T) {
		_, err := importer.LoadMapFile(filepath.Join(t.TempDir(), "nope.yaml"))
		checkError(t, err, "nope.yaml", "no such file")
	})
}

// checkError fails unless err holds every substring of want.
func checkError(t testing.TB, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
}
