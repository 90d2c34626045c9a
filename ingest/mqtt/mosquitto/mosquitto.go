// Package mosquitto runs a private Mosquitto broker on 127.0.0.1 for tests
// and the bench, configured from deploy/mosquitto.conf with the listener,
// the persistence folder and the log replaced, so that what is tested is
// what is deployed. The broker can be stopped (cleanly: its persistence is
// saved), killed and started again on the same port.
package mosquitto

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// DefaultBin is where Debian installs the broker.
const DefaultBin = "/usr/sbin/mosquitto"

// startTimeout bounds the wait for a started broker to listen.
const startTimeout = 10 * time.Second

// replaced are the directives of the base configuration that Derive drops:
// where to listen and where to keep files belong to the private broker.
var replaced = map[string]bool{
	"listener": true, "port": true, "bind_address": true, "bind_interface": true,
	"persistence_location": true, "persistence_file": true, "pid_file": true,
	"log_dest": true, "user": true, "socket_domain": true,
}

// Derive returns base (a mosquitto.conf) with its listeners, file
// locations and log destination replaced: one listener on 127.0.0.1:port,
// persistence in dir, log to standard error. Every other setting is kept.
func Derive(base string, port int, dir string) string {
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(base))
	for sc.Scan() {
		line := sc.Text()
		if f := strings.Fields(line); len(f) > 0 && replaced[f[0]] {
			continue
		}
		b.WriteString(line + "\n")
	}
	fmt.Fprintf(&b, "\n# private broker (routerlogger ingest/mqtt/mosquitto)\n"+
		"listener %d 127.0.0.1\npersistence_location %s/\nlog_dest stderr\n", port, dir)
	return b.String()
}

// Options configure a [Broker].
type Options struct {
	// Bin is the broker binary; empty means [DefaultBin], else
	// "mosquitto" on PATH.
	Bin string
	// Conf is the base configuration, such as deploy/mosquitto.conf's
	// text; see [Derive]. Empty means Mosquitto's defaults.
	Conf string
	// Port is the listener's port; 0 picks a free one.
	Port int
}

// Broker is a private Mosquitto process. Its methods must not be called
// concurrently.
type Broker struct {
	// Port is the listener on 127.0.0.1; it stays across restarts.
	Port int
	// URL is tcp://127.0.0.1:Port.
	URL string

	bin, dir, conf string
	portFixed      bool
	cmd            *exec.Cmd
	exited         chan struct{}
	log            *os.File
}

// FindBin returns the broker binary: bin if given, else [DefaultBin] when
// present, else mosquitto on PATH.
func FindBin(bin string) (string, error) {
	if bin != "" {
		return bin, nil
	}
	if _, err := os.Stat(DefaultBin); err == nil {
		return DefaultBin, nil
	}
	p, err := exec.LookPath("mosquitto")
	if err != nil {
		return "", fmt.Errorf("mosquitto: no broker binary at %s or on PATH: %w", DefaultBin, err)
	}
	return p, nil
}

// New prepares a broker in a fresh private folder; it starts nothing.
// Call [Broker.Close] to stop it and remove the folder.
func New(opt Options) (*Broker, error) {
	bin, err := FindBin(opt.Bin)
	if err != nil {
		return nil, err
	}
	// Not under a test's TempDir: its parents may be closed to the user
	// mosquitto drops to when started as root.
	dir, err := os.MkdirTemp("", "routerlogger-mosquitto-")
	if err != nil {
		return nil, fmt.Errorf("mosquitto: create folder: %w", err)
	}
	b := &Broker{Port: opt.Port, bin: bin, dir: dir, conf: opt.Conf, portFixed: opt.Port != 0}
	if err := b.handToBrokerUser(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return b, nil
}

// handToBrokerUser gives the folder to the user mosquitto switches to when
// it is started as root, so that it can save its persistence there.
func (b *Broker) handToBrokerUser() error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("mosquitto")
	if err != nil {
		return nil // mosquitto then stays root, or falls back to nobody
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(b.dir, uid, gid); err != nil {
		return fmt.Errorf("mosquitto: hand folder to user mosquitto: %w", err)
	}
	return nil
}

// Start starts the broker and waits until it accepts connections. On the
// first start without a fixed port it picks a free one, and another if
// that one was taken in between.
func (b *Broker) Start(ctx context.Context) error {
	if b.cmd != nil {
		return errors.New("mosquitto: already running")
	}
	var err error
	for range 3 {
		if b.Port == 0 {
			if b.Port, err = freePort(); err != nil {
				return err
			}
		}
		if err = b.start(ctx); err == nil || b.portFixed {
			return err
		}
		if !strings.Contains(err.Error(), "ddress already in use") {
			return err
		}
		b.Port = 0
	}
	return err
}

func (b *Broker) start(ctx context.Context) error {
	b.URL = fmt.Sprintf("tcp://127.0.0.1:%d", b.Port)
	confPath := filepath.Join(b.dir, "mosquitto.conf")
	if err := os.WriteFile(confPath, []byte(Derive(b.conf, b.Port, b.dir)), 0o644); err != nil {
		return fmt.Errorf("mosquitto: write config: %w", err)
	}
	logf, err := os.OpenFile(b.logPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("mosquitto: open log: %w", err)
	}

	cmd := exec.Command(b.bin, "-c", confPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	// The broker dies with the test or bench process that started it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("mosquitto: start %s: %w", b.bin, err)
	}
	b.cmd, b.log, b.exited = cmd, logf, make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(b.exited)
	}()

	if err := b.waitListening(ctx); err != nil {
		b.kill()
		return err
	}
	return nil
}

// waitListening polls the port until the broker accepts a connection, the
// process exits or the start timeout passes.
func (b *Broker) waitListening(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	addr := fmt.Sprintf("127.0.0.1:%d", b.Port)
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return nil
		}
		select {
		case <-b.exited:
			return fmt.Errorf("mosquitto: exited at start on port %d:\n%s", b.Port, b.LogTail())
		case <-ctx.Done():
			return fmt.Errorf("mosquitto: not listening on port %d: %w\n%s",
				b.Port, ctx.Err(), b.LogTail())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Stop stops the broker cleanly (SIGTERM: it saves sessions and queued
// messages to its persistence) and waits for it to exit.
func (b *Broker) Stop() error {
	if b.cmd == nil {
		return nil
	}
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.exited:
	case <-time.After(30 * time.Second):
		b.kill()
		return fmt.Errorf("mosquitto: did not stop within 30s on SIGTERM; killed")
	}
	b.release()
	return nil
}

// Kill stops the broker as a crash would: nothing is saved since the last
// autosave.
func (b *Broker) Kill() {
	if b.cmd != nil {
		b.kill()
	}
}

func (b *Broker) kill() {
	_ = b.cmd.Process.Kill()
	<-b.exited
	b.release()
}

func (b *Broker) release() {
	b.log.Close()
	b.cmd = nil
}

// Restart stops the broker cleanly and starts it again on the same port,
// with the same persistence.
func (b *Broker) Restart(ctx context.Context) error {
	if err := b.Stop(); err != nil {
		return err
	}
	b.portFixed = true
	return b.Start(ctx)
}

// Close stops the broker, if running, and removes its folder.
func (b *Broker) Close() error {
	err := b.Stop()
	return errors.Join(err, os.RemoveAll(b.dir))
}

func (b *Broker) logPath() string { return filepath.Join(b.dir, "mosquitto.log") }

// LogTail returns the last lines of the broker's log, for messages.
func (b *Broker) LogTail() string {
	raw, err := os.ReadFile(b.logPath())
	if err != nil {
		return fmt.Sprintf("(no broker log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-20):], "\n")
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("mosquitto: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
