package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routerlogger/routerlogger/ingest/mqtt"
	"github.com/routerlogger/routerlogger/ingest/mqtt/mqtttest"
	"github.com/routerlogger/routerlogger/ingest/tokens"
	"github.com/routerlogger/routerlogger/internal/db"
	"github.com/routerlogger/routerlogger/internal/pgtest"
)

var mqttConnected = regexp.MustCompile(`msg="mqtt connected"`)

// serveProcess is a running `routerlogger serve`.
type serveProcess struct {
	cmd  *exec.Cmd
	base string // http://addr
	mu   sync.Mutex
	logs bytes.Buffer
}

// startServe runs the binary with env and waits until it listens on HTTP
// and, when env sets ROUTERLOGGER_MQTT_URL, its MQTT consumer is connected.
func startServe(t *testing.T, bin string, env []string) *serveProcess {
	t.Helper()
	withMQTT := slices.ContainsFunc(env, func(kv string) bool {
		return strings.HasPrefix(kv, "ROUTERLOGGER_MQTT_URL=")
	})
	p := &serveProcess{cmd: exec.Command(bin, "serve")}
	p.cmd.Env = append(os.Environ(), env...)
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.cmd.Process.Kill(); _ = p.cmd.Wait() })

	addr, connected := make(chan string, 1), make(chan struct{}, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.logs.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
			if mqttConnected.MatchString(sc.Text()) {
				select {
				case connected <- struct{}{}:
				default:
				}
			}
		}
	}()
	waitMQTT := connected // the reader goroutine keeps its own reference
	if !withMQTT {
		waitMQTT = nil
	}
	timeout := time.After(60 * time.Second)
	for p.base == "" || waitMQTT != nil {
		select {
		case a := <-addr:
			p.base = "http://" + a
		case <-waitMQTT:
			waitMQTT = nil
		case <-timeout:
			t.Fatalf("serve did not start with HTTP and MQTT:\n%s", p.log())
		}
	}
	return p
}

func (p *serveProcess) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// httpLoad posts single readings of one router per client, in time order,
// until a post fails; it records the readings answered 202.
type httpLoad struct {
	acked [16]atomic.Int64 // readings 0..n-1 of router H-c were acknowledged
	sent  [16]atomic.Int64
}

func (l *httpLoad) run(ctx context.Context, base, token string, wg *sync.WaitGroup) {
	start := time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)
	for c := range l.acked {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				body := fmt.Sprintf(`{"device_id":"H-%d","timestamp":%q,"uptime":%d,`+
					`"counters":{"total_tx_bytes":%d,"total_rx_bytes":%d}}`, c,
					start.Add(time.Duration(i)*time.Second).Format(time.RFC3339), 1000+i, 1000*i, 3000*i)
				req, _ := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/telemetry",
					bytes.NewBufferString(body))
				req.Header.Set("Authorization", "Bearer "+token)
				l.sent[c].Store(int64(i + 1))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted {
					return
				}
				l.acked[c].Store(int64(i + 1))
			}
		}()
	}
}

// mqttKillLoad is the MQTT part: perRouter readings of each of routers
// M-0.., one a minute, counters rising by fixed steps.
func mqttKillLoad(routers, perRouter int) []mqtttest.Message {
	start := time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)
	var out []mqtttest.Message
	for k := 0; k < perRouter; k++ {
		for r := 0; r < routers; r++ {
			serial := fmt.Sprintf("M-%d", r)
			body := fmt.Sprintf(`{"device_id":%q,"timestamp":%q,"uptime":%d,`+
				`"counters":{"total_tx_bytes":%d,"total_rx_bytes":%d}}`, serial,
				start.Add(time.Duration(k)*time.Minute).Format(time.RFC3339), 1000+60*k, 1000*k, 3000*k)
			out = append(out, mqtttest.Message{Topic: mqtt.TelemetryTopic("kill", serial), Payload: []byte(body)})
		}
	}
	return out
}

// TestServe_SIGKILL runs serve with HTTP and MQTT, drives load over both,
// kills it with SIGKILL mid-load and starts it again: every reading
// acknowledged (HTTP 202, or PUBACKed by the broker, which keeps what the
// consumer did not acknowledge for its persistent session) is stored
// exactly once, and usage is not counted twice.
func TestServe_SIGKILL(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	broker := mqtttest.Broker(t)
	bin := buildBinary(t)
	env := []string{"DATABASE_URL=" + dsn, "ROUTERLOGGER_HTTP_ADDR=127.0.0.1:0",
		"ROUTERLOGGER_TIMESCALE=off", "ROUTERLOGGER_MQTT_URL=" + broker.URL,
		"ROUTERLOGGER_MQTT_TOPIC_PREFIX=kill", "ROUTERLOGGER_MQTT_CLIENT_ID=kill-test-consumer",
		"ROUTERLOGGER_MQTT_SHARE_GROUP=none", "ROUTERLOGGER_MQTT_BATCH=200"}
	first := startServe(t, bin, env)

	ctx := context.Background()
	pool, err := db.Open(ctx, dsn, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	tok, err := tokens.NewStore(pool, nil, 0).CreateFleet(ctx, "kill")
	if err != nil {
		t.Fatal(err)
	}

	// Load over both front doors.
	const routers, perRouter = 20, 1000
	msgs := mqttKillLoad(routers, perRouter)
	pub := mqtttest.NewPublisher(t, broker.URL, "kill-test-publisher", 500)
	published := make(chan error, 1)
	go func() { published <- pub.Publish(msgs, 120*time.Second) }()
	var load httpLoad
	var wg sync.WaitGroup
	httpCtx, stopHTTP := context.WithCancel(ctx)
	defer stopHTTP()
	load.run(httpCtx, first.base, tok, &wg)

	waitFor(t, 60*time.Second, "load under way", func() (bool, string) {
		m := countRows(pool, "SELECT count(*) FROM samples WHERE source = 'mqtt'")
		h := countRows(pool, "SELECT count(*) FROM samples WHERE source = 'http'")
		return m >= 2000 && h >= 200, fmt.Sprintf("%d mqtt, %d http", m, h)
	})
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.cmd.Wait()
	wg.Wait() // the HTTP clients stop at their first failed post
	mqttAtKill := countRows(pool, "SELECT count(*) FROM samples WHERE source = 'mqtt'")

	second := startServe(t, bin, env)
	if err := <-published; err != nil {
		t.Fatalf("publisher: %v", err)
	}
	waitFor(t, 90*time.Second, "every published message stored", func() (bool, string) {
		n := countRows(pool, "SELECT count(*) FROM samples WHERE source = 'mqtt'")
		return n == len(msgs), fmt.Sprintf("%d of %d", n, len(msgs))
	})

	checkKillResult(t, pool, &load, routers, perRouter)
	t.Logf("mqtt: %d published and PUBACKed, %d stored at the kill, %d stored after the restart",
		len(msgs), mqttAtKill, countRows(pool, "SELECT count(*) FROM samples WHERE source = 'mqtt'"))
	var sent, acked int64
	for c := range load.acked {
		sent, acked = sent+load.sent[c].Load(), acked+load.acked[c].Load()
	}
	t.Logf("http: %d clients posted %d, %d acknowledged (202), %d stored", len(load.acked), sent, acked,
		countRows(pool, "SELECT count(*) FROM samples WHERE source = 'http'"))

	if err := second.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := second.cmd.Wait(); err != nil {
		t.Fatalf("restarted serve exited with %v on SIGTERM\n%s", err, second.log())
	}
}

// checkKillResult checks exactly-once storage and usage per router.
func checkKillResult(t *testing.T, pool *pgxpool.Pool, load *httpLoad, routers, perRouter int) {
	t.Helper()
	total := countRows(pool, "SELECT count(*) FROM samples")
	distinct := countRows(pool, "SELECT count(DISTINCT (router_id, time)) FROM samples")
	if total != distinct {
		t.Fatalf("%d samples for %d distinct readings: some stored twice", total, distinct)
	}

	type usage struct{ tx, rx, n int64 }
	got := map[string]usage{}
	rows, err := pool.Query(context.Background(), `SELECT r.serial, coalesce(sum(u.tx_bytes), 0)::bigint,
		coalesce(sum(u.rx_bytes), 0)::bigint, (SELECT count(*) FROM samples s WHERE s.router_id = r.id)
		FROM routers r LEFT JOIN router_usage_daily u ON u.serial = r.serial GROUP BY r.serial, r.id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		var u usage
		if err := rows.Scan(&s, &u.tx, &u.rx, &u.n); err != nil {
			t.Fatal(err)
		}
		got[s] = u
	}

	for r := 0; r < routers; r++ {
		s := fmt.Sprintf("M-%d", r)
		if u := got[s]; u.n != int64(perRouter) || u.tx != int64(perRouter-1)*1000 || u.rx != int64(perRouter-1)*3000 {
			t.Errorf("%s: %d samples, tx %d rx %d; want %d samples, tx %d rx %d", s, u.n, u.tx, u.rx,
				perRouter, (perRouter-1)*1000, (perRouter-1)*3000)
		}
	}
	// An HTTP client posts in order and stops at its first failure, so a
	// router's stored readings are 0..n-1: every acknowledged one, and
	// perhaps the one in flight at the kill.
	for c := range load.acked {
		s := fmt.Sprintf("H-%d", c)
		u, acked, sent := got[s], load.acked[c].Load(), load.sent[c].Load()
		if u.n < acked || u.n > sent || u.tx != (u.n-1)*1000 || u.rx != (u.n-1)*3000 {
			t.Errorf("%s: %d stored (tx %d rx %d) for %d acknowledged of %d sent; want tx %d rx %d",
				s, u.n, u.tx, u.rx, acked, sent, (u.n-1)*1000, (u.n-1)*3000)
		}
	}
}
