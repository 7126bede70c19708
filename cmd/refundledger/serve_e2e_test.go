package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"refundledger/ingest"
	"refundledger/proto"
)

// The end-to-end tests drive the built binary the way a user does.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// mustBuild builds refundledger once per test run.
func mustBuild(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "refundledger-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "refundledger")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// startOutsideNATS starts a NATS server (JetStream, store in a temporary
// directory) that the binary under test connects to as to any outside
// server; it stops when the test ends.
func startOutsideNATS(t *testing.T) *server.Server {
	t.Helper()
	ns, err := ingest.StartEmbeddedNATS(ingest.EmbeddedOptions{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	return ns
}

// mustJetStream connects to the NATS server(s) at urls (a comma list) for
// the rest of the test.
func mustJetStream(t *testing.T, urls string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(urls)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// service is a running `refundledger serve`.
type service struct {
	cmd      *exec.Cmd
	callback string // POST URL
	admin    string // base URL
	nats     string // client URL
	stderr   *bytes.Buffer
	done     chan error
}

var (
	reCallbacks = regexp.MustCompile(`^\s+callbacks\s+(\S+)`)
	reAdmin     = regexp.MustCompile(`^\s+admin\s+(http://[^/]+)/`)
	reNATS      = regexp.MustCompile(`^\s+nats\s+(nats://\S+)`)
)

// startServe starts serve on dir with free ports and no signature secret,
// and waits for its banner.
func startServe(t *testing.T, dir string, extra ...string) *service {
	t.Helper()
	return startServeEnv(t, dir, []string{"REFUNDLEDGER_ACCESS_KEY=", "REFUNDLEDGER_ACCESS_SECRET="}, extra...)
}

// startServeEnv is startServe with env added to the environment.
func startServeEnv(t *testing.T, dir string, env []string, extra ...string) *service {
	t.Helper()
	args := append([]string{"serve", "--data", dir, "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0"}, extra...)
	cmd := exec.Command(mustBuild(t), args...)
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &service{cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	deadline := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
	for (s.callback == "" || s.admin == "" || s.nats == "") && sc.Scan() {
		if m := reNATS.FindStringSubmatch(sc.Text()); m != nil {
			s.nats = m[1]
		}
		if m := reCallbacks.FindStringSubmatch(sc.Text()); m != nil {
			s.callback = m[1]
		}
		if m := reAdmin.FindStringSubmatch(sc.Text()); m != nil {
			s.admin = m[1]
		}
	}
	deadline.Stop()
	go io.Copy(io.Discard, stdout)
	go func() { s.done <- cmd.Wait() }()
	if s.callback == "" || s.admin == "" {
		t.Fatalf("serve did not print its addresses; stderr:\n%s", s.stderr)
	}
	t.Cleanup(func() { s.cmd.Process.Kill() })
	return s
}

// stop sends SIGTERM and requires a clean exit.
func (s *service) stop(t *testing.T) {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("serve exited with %v; stderr:\n%s", err, s.stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not stop within 20s of SIGTERM")
	}
}

func (s *service) post(t *testing.T, body []byte) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(s.callback, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, resp)
}

func (s *service) get(t *testing.T, path string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(s.admin + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// waitCaughtUp polls /v1/status until the projection has folded the stream.
func (s *service) waitCaughtUp(t *testing.T, minSeq uint64) {
	t.Helper()
	for start := time.Now(); time.Since(start) < 20*time.Second; time.Sleep(20 * time.Millisecond) {
		code, b := s.get(t, "/v1/status")
		var st struct{ StreamLastSeq, Checkpoint, Lag uint64 }
		if code == 200 && json.Unmarshal(b, &st) == nil && st.Lag == 0 && st.Checkpoint >= minSeq {
			return
		}
	}
	t.Fatalf("projection did not catch up to %d", minSeq)
}

func decode(t *testing.T, resp *http.Response) (int, map[string]any) {
	t.Helper()
	defer resp.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("answer %d is not JSON: %q", resp.StatusCode, b)
	}
	return resp.StatusCode, m
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "xportcn", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func requireError(t *testing.T, code int, body map[string]any, wantStatus int, wantCode string) {
	t.Helper()
	e, _ := body["error"].(map[string]any)
	if code != wantStatus || e == nil || e["code"] != wantCode || e["message"] == "" {
		t.Fatalf("got %d %v, want %d with error code %q", code, body, wantStatus, wantCode)
	}
}

func TestServeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	s := startServe(t, dir)

	fixtures := []string{
		"1688-refund-refundonly-success.json", "1688-refund-return-success-stringtimes.json",
		"1688-order-create.json", "1688-order-price-modify.json", "1688-order-pay-success.json", "1688-order-cancel.json",
	}
	receipt := regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{26}$`)
	for _, name := range fixtures {
		code, body := s.post(t, fixture(t, name))
		if code != 200 || body["code"] != float64(200) || body["msg"] != "success" || !receipt.MatchString(fmt.Sprint(body["receiptId"])) {
			t.Fatalf("POST %s: %d %v", name, code, body)
		}
	}

	t.Run("BadInputGetsOneErrorShape", func(t *testing.T) {
		code, body := s.post(t, []byte("this is not json"))
		requireError(t, code, body, 400, "bad_request")
		req, _ := http.NewRequest(http.MethodPut, s.callback, strings.NewReader("{}"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		code, body = decode(t, resp)
		requireError(t, code, body, 405, "method_not_allowed")
		big := append([]byte(`{"messageType":"X","pad":"`), bytes.Repeat([]byte("a"), 1<<20)...)
		code, body = s.post(t, append(big, `"}`...))
		requireError(t, code, body, 413, "payload_too_large")
	})

	// The body that is not JSON is kept in quarantine: one message more.
	s.waitCaughtUp(t, uint64(len(fixtures)+1))
	code, refund := s.get(t, "/v1/refunds/1688/TQ142969441872889407")
	if code != 200 {
		t.Fatalf("GET refund: %d %s", code, refund)
	}
	var st struct {
		Platform, RefundID, OrderID, Status string
		Terminal                            bool
		Amounts                             map[string]int64
		Booked                              int64
		Operations                          []struct{ ID, At, From, To string }
		Anomalies                           []struct{ Code, Detail string }
	}
	if err := json.Unmarshal(refund, &st); err != nil {
		t.Fatal(err)
	}
	if st.Status != "refundsuccess" || !st.Terminal || st.OrderID != "2044420321024880794" || st.Booked != 16700 ||
		st.Amounts["applyPayment"] != 11700 || st.Amounts["applyCarriage"] != 5000 ||
		st.Amounts["refundPayment"] != 11700 || st.Amounts["refundCarriage"] != 5000 {
		t.Fatalf("refund state: %s", refund)
	}
	if len(st.Operations) != 2 || st.Operations[0].From != "" || st.Operations[0].To != "waitselleragree" ||
		st.Operations[1].From != "waitselleragree" || st.Operations[1].To != "refundsuccess" ||
		st.Operations[0].At != "2024-01-10T02:29:22Z" || st.Operations[0].ID != "4538611344933" {
		t.Fatalf("operations: %+v", st.Operations)
	}
	if code, b := s.get(t, "/v1/refunds/1688/TQ0"); code != 404 || !bytes.Contains(b, []byte(`"code":"not_found"`)) {
		t.Fatalf("unknown refund: %d %s", code, b)
	}
	_, order := s.get(t, "/v1/orders/1688/3305075341149134260")
	_, status := s.get(t, "/v1/status")
	var counts struct{ Counts struct{ Facts uint64 } }
	if err := json.Unmarshal(status, &counts); err != nil || counts.Counts.Facts == 0 {
		t.Fatalf("status %s: %v", status, err)
	}
	if n := s.eventCount(t, counts.Counts.Facts); n != counts.Counts.Facts {
		t.Fatalf("REFUND_EVENTS holds %d events, the outbox %d facts", n, counts.Counts.Facts)
	}

	t.Run("MetricsCountEveryOutcome", func(t *testing.T) {
		code, body := s.get(t, "/metrics")
		for _, line := range []string{
			`refundledger_ingest_requests_total{outcome="accepted"} 6`,
			`refundledger_ingest_requests_total{outcome="bad_request"} 1`,
			`refundledger_ingest_quarantined_total 1`,
			`refundledger_ingest_requests_total{outcome="method_not_allowed"} 1`,
			`refundledger_ingest_requests_total{outcome="too_large"} 1`,
			`refundledger_projection_lag 0`,
			fmt.Sprintf(`refundledger_relay_published_total %d`, counts.Counts.Facts),
			`refundledger_relay_backfilling 0`,
		} {
			if code != 200 || !bytes.Contains(body, []byte(line+"\n")) {
				t.Fatalf("/metrics (%d) lacks %q:\n%s", code, line, body)
			}
		}
	})

	t.Run("CLIReadsTheLedger", func(t *testing.T) {
		run := func(args ...string) string {
			t.Helper()
			out, err := exec.Command(mustBuild(t), args...).CombinedOutput()
			if err != nil {
				t.Fatalf("refundledger %s: %v\n%s", strings.Join(args, " "), err, out)
			}
			return string(out)
		}
		requireLines := func(out string, want ...string) {
			t.Helper()
			for _, w := range want {
				if !regexp.MustCompile(w).MatchString(out) {
					t.Fatalf("output lacks %q:\n%s", w, out)
				}
			}
		}
		requireLines(run("show", "refund", "1688", "TQ142969441872889407", "--history", "--admin", s.admin),
			`status\s+refundsuccess \(succeeded, terminal\)`, `booked\s+167\.00 CNY`,
			`(?m)^2024-01-10 02:29:23\s+4538611416976\s+8\s+system\s+waitselleragree\s+refundsuccess`,
			`refund\s+11,?700\.00|refund\s+117\.00\s+50\.00\s+167\.00`, `DELIVERIES`)
		requireLines(run("show", "order", "1688", "3305075341149134260", "--admin", s.admin),
			`status\s+CANCEL`, `totals\s+100\.00 CNY = products 95\.00 \+ shipping 5\.00`, `PRICE HISTORY`)
		requireLines(run("report", "--admin", s.admin), `1688\s+succeeded\s+2\s+2\s+167\.01`, `total\s+2\s+167\.01`)
		requireLines(run("audit", "--events", "--admin", s.admin), `(?m)^missing\s+0$`,
			`(?m)^published more than once\s+0$`, `OK: REFUND_EVENTS holds every fact`)
		requireLines(run("audit", "--admin", s.admin), `differences\s+0`, `OK: the projection equals`,
			`(?m)^audit\s+100\.0%\s+\d+ / \d+ msgs`)
		out := run("replay", "--nats", s.nats, "--order", "3305075341149134260")
		if n := strings.Count(out, "\n"); n != 5 { // header + 4 order messages
			t.Fatalf("replay listed %d lines:\n%s", n, out)
		}
		requireLines(out, `ORDER_BUYER_VIEW_ORDER_PRICE_MODIFY\s+3305075341149134260\s+0\s+off\s+427`)
		raw := run("replay", "--nats", s.nats, "--order", "2044420321024880794", "--raw")
		if !strings.Contains(raw, `"refundId":"TQ142969441872889407"`) || strings.Count(raw, "\n") != 1 {
			t.Fatalf("replay --raw: %s", raw)
		}
		cmd := exec.Command(mustBuild(t), "show", "refund", "1688", "TQ0", "--admin", s.admin)
		if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "not_found") {
			t.Fatalf("show of an unknown refund: %v %s", err, out)
		}
		// Output that cannot be written (a full disk) fails the command: a
		// cut-short export must not look complete.
		full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
		if err != nil {
			t.Skipf("no /dev/full: %v", err)
		}
		defer full.Close()
		for _, args := range [][]string{
			{"replay", "--nats", s.nats, "--raw"},
			{"replay", "--nats", s.nats},
			{"show", "order", "1688", "3305075341149134260", "--admin", s.admin},
			{"report", "--admin", s.admin},
		} {
			var stderr bytes.Buffer
			cmd := exec.Command(mustBuild(t), args...)
			cmd.Stdout, cmd.Stderr = full, &stderr
			if err := cmd.Run(); err == nil || !strings.Contains(stderr.String(), "write the output") {
				t.Errorf("%s to a full disk: %v, %s; want a failed write", args[0], err, stderr.String())
			}
		}
	})

	// restartUnchanged starts serve on dir again and requires the same
	// refund, order, status and events: nothing lost, nothing applied or
	// published twice.
	restartUnchanged := func(t *testing.T) {
		t.Helper()
		s := startServe(t, dir)
		defer s.stop(t)
		// The body that is not JSON is kept in quarantine: one message more.
		s.waitCaughtUp(t, uint64(len(fixtures)+1))
		requireSame(t, s, "/v1/refunds/1688/TQ142969441872889407", refund)
		requireSame(t, s, "/v1/orders/1688/3305075341149134260", order)
		requireSameStatus(t, s, status)
		if n := s.eventCount(t, counts.Counts.Facts); n != counts.Counts.Facts {
			t.Fatalf("REFUND_EVENTS holds %d events, want %d: facts lost or published twice", n, counts.Counts.Facts)
		}
	}

	t.Run("SecondServeOnSameDataRefuses", func(t *testing.T) {
		out, err := exec.Command(mustBuild(t), "serve", "--data", dir, "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0").CombinedOutput()
		if err == nil || !bytes.Contains(out, []byte("in use by another refundledger")) {
			t.Fatalf("second serve: err %v, output %s", err, out)
		}
	})
	s.stop(t)

	t.Run("RestartKeepsStateAndAppliesNothingTwice", func(t *testing.T) {
		restartUnchanged(t)
	})

	t.Run("DeletedProjectionIsRebuiltIdentical", func(t *testing.T) {
		if err := os.RemoveAll(filepath.Join(dir, "pebble")); err != nil {
			t.Fatal(err)
		}
		restartUnchanged(t)
	})

	t.Run("OfflineRebuildAndAudit", func(t *testing.T) {
		out, err := exec.Command(mustBuild(t), "rebuild", "--data", dir).CombinedOutput()
		if err != nil || !regexp.MustCompile(`rebuilt \S+: 7 messages in .*checkpoint 7`).Match(out) {
			t.Fatalf("rebuild: %v\n%s", err, out)
		}
		if _, err := os.Stat(filepath.Join(dir, "pebble.rebuild")); !os.IsNotExist(err) {
			t.Fatalf("the rebuild directory is left behind: %v", err)
		}
		// Off a terminal its progress is plain lines, the last one complete.
		out, err = exec.Command(mustBuild(t), "audit", "--data", dir).CombinedOutput()
		if err != nil || !bytes.Contains(out, []byte("OK: the projection equals")) ||
			!regexp.MustCompile(`(?m)^audit\s+100\.0%\s+7 / 7 msgs\s+\S+ msgs/s\s+ETA 0:00$`).Match(out) {
			t.Fatalf("audit: %v\n%s", err, out)
		}
		restartUnchanged(t)
	})
}

// TestOfflineAuditNeedsAProjection: `audit --data` on a directory with a
// stream but no projection says so and fails; it does not call the empty
// projection it would open equal to the fold of nothing, nor create it.
func TestOfflineAuditNeedsAProjection(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "nats"), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(mustBuild(t), "audit", "--data", dir).CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || !bytes.Contains(out, []byte("no projection in")) || bytes.Contains(out, []byte("OK")) {
		t.Fatalf("audit of a directory without a projection: %v (want exit 2)\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "pebble")); !os.IsNotExist(err) {
		t.Errorf("the audit created a projection directory: %v", err)
	}
}

// TestServeWithExternalNATS runs serve against a NATS server it did not
// start (as in a cluster, with --nats): the streams are created there and a
// callback goes all the way through.
func TestServeWithExternalNATS(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	ns := startOutsideNATS(t)
	s := startServe(t, t.TempDir(), "--nats", ns.ClientURL())
	if s.nats != ns.ClientURL() {
		t.Fatalf("serve reports NATS at %s, want %s", s.nats, ns.ClientURL())
	}
	if code, body := s.post(t, fixture(t, "1688-refund-refundonly-success.json")); code != 200 {
		t.Fatalf("POST: %d %v", code, body)
	}
	s.waitCaughtUp(t, 1)
	if code, b := s.get(t, "/v1/refunds/1688/TQ142969441872889407"); code != 200 || !bytes.Contains(b, []byte(`"booked":16700`)) {
		t.Fatalf("GET refund: %d %s", code, b)
	}
	s.stop(t)
	// The server is ours, not serve's: it is still up and holds the callback.
	js := mustJetStream(t, ns.ClientURL())
	st, err := js.Stream(context.Background(), ingest.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := st.Info(context.Background()); err != nil || info.State.Msgs != 1 {
		t.Fatalf("stream after serve stopped: %v %+v", err, info)
	}
}

func TestGenIsReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	gen := func(seed string) []byte {
		out, err := exec.Command(mustBuild(t), "gen", "--orders", "20", "--seed", seed).Output()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	a, b, c := gen("5"), gen("5"), gen("6")
	if !bytes.Equal(a, b) || bytes.Equal(a, c) {
		t.Fatal("the same seed must give the same callbacks, another seed others")
	}
	lines := bytes.Split(bytes.TrimSpace(a), []byte("\n"))
	if len(lines) < 20 {
		t.Fatalf("%d callbacks for 20 orders", len(lines))
	}
	for i, l := range lines {
		if _, err := proto.DecodeCallback(l); err != nil {
			t.Fatalf("line %d does not decode: %v\n%s", i+1, err, l)
		}
	}
}

// eventCount waits until REFUND_EVENTS holds want events (or times out) and
// returns how many it holds, after a pause long enough for extra ones.
func (s *service) eventCount(t *testing.T, want uint64) uint64 {
	t.Helper()
	js := mustJetStream(t, s.nats)
	return eventCount(t, js, want)
}

// eventCount is service.eventCount through js.
func eventCount(t *testing.T, js jetstream.JetStream, want uint64) uint64 {
	t.Helper()
	var n uint64
	for start := time.Now(); time.Since(start) < 20*time.Second; time.Sleep(20 * time.Millisecond) {
		st, err := js.Stream(context.Background(), "REFUND_EVENTS")
		if err != nil {
			continue
		}
		info, err := st.Info(context.Background())
		if err != nil {
			continue // a cluster may be electing the stream's leader
		}
		if n = info.State.Msgs; n >= want {
			time.Sleep(300 * time.Millisecond)
			if info, err = st.Info(context.Background()); err == nil {
				n = info.State.Msgs
			}
			return n
		}
	}
	return n
}

func requireSame(t *testing.T, s *service, path string, want []byte) {
	t.Helper()
	code, got := s.get(t, path)
	if code != 200 || !bytes.Equal(got, want) {
		t.Fatalf("GET %s after restart:\n got %d %s\nwant %s", path, code, got, want)
	}
}

// requireSameStatus is requireSame for /v1/status, but for the relay's part:
// a relay started again has published nothing yet, and knows from the
// stream that every fact is there.
func requireSameStatus(t *testing.T, s *service, want []byte) {
	t.Helper()
	split := func(b []byte) (string, map[string]any) {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("status %s: %v", b, err)
		}
		relay, _ := m["relay"].(map[string]any)
		delete(m, "relay")
		rest, _ := json.Marshal(m)
		return string(rest), relay
	}
	// The relay looks at the stream every 100 ms, and after the projection
	// (a deleted one is folded again first).
	var got []byte
	var relay map[string]any
	var gotRest string
	for start := time.Now(); got == nil || time.Since(start) < 10*time.Second && relay["position"] == 0.0; time.Sleep(20 * time.Millisecond) {
		_, got = s.get(t, "/v1/status")
		gotRest, relay = split(got)
	}
	if wantRest, _ := split(want); gotRest != wantRest {
		t.Fatalf("GET /v1/status after restart:\n got %s\nwant %s", got, want)
	}
	if relay["published"] != 0.0 || relay["position"] == 0.0 || relay["backfilling"] != false {
		t.Fatalf("relay after restart %v, want nothing published again and the stream's position", relay)
	}
}

// TestGenRefusesRatesOutOfRange: a --dup-rate of 1 would repeat a copy for
// ever; it and other rates that are no probability are refused at once.
func TestGenRefusesRatesOutOfRange(t *testing.T) {
	for _, args := range [][]string{{"--dup-rate", "1"}, {"--dup-rate", "-0.1"}, {"--retry-rate", "1.5"}} {
		cmd := exec.Command(mustBuild(t), append([]string{"gen", "--orders", "1"}, args...)...)
		timer := time.AfterFunc(10*time.Second, func() { _ = cmd.Process.Kill() }) // it never ended before
		out, err := cmd.CombinedOutput()
		timer.Stop()
		if err == nil || !strings.Contains(string(out), "want a probability") {
			t.Errorf("gen %v: %v\n%.300s", args, err, out)
		}
	}
}

// TestServeRefusesABadVerifyModeBeforeStarting: a mistyped --verify is an
// error at once, before NATS, the streams or the data directory exist.
func TestServeRefusesABadVerifyModeBeforeStarting(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	out, err := exec.Command(mustBuild(t), "serve", "--data", data, "--verify", "enforc",
		"--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "verify mode must be") {
		t.Fatalf("serve --verify enforc: %v\n%s", err, out)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("the data directory was created before the flag was checked: %v", err)
	}
}

// TestServeRefusesReplicasWithoutACluster: --replicas 3 with the embedded
// server (one node, which cannot hold R3 streams) is an error at once that
// points to --nats, before NATS or the data directory exist; it used to be
// retried for about two minutes.
func TestServeRefusesReplicasWithoutACluster(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	cmd := exec.Command(mustBuild(t), "serve", "--data", data, "--replicas", "3",
		"--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0")
	timer := time.AfterFunc(10*time.Second, func() { _ = cmd.Process.Kill() })
	out, err := cmd.CombinedOutput()
	timer.Stop()
	if err == nil || !strings.Contains(string(out), "--replicas 3 needs a NATS cluster") || !strings.Contains(string(out), "--nats") {
		t.Fatalf("serve --replicas 3 without --nats: %v\n%.2000s", err, out)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("the data directory was created before the flag was checked: %v", err)
	}
}

// A single NATS server given with --nats cannot hold R3 streams either: the
// error says so at once instead of being retried for two minutes.
func TestServeRefusesReplicasOnANATSServerOutsideACluster(t *testing.T) {
	ns := startOutsideNATS(t)
	cmd := exec.Command(mustBuild(t), "serve", "--data", t.TempDir(), "--replicas", "3", "--nats", ns.ClientURL(),
		"--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0")
	timer := time.AfterFunc(30*time.Second, func() { _ = cmd.Process.Kill() })
	start := time.Now()
	out, err := cmd.CombinedOutput()
	timer.Stop()
	if err == nil || !strings.Contains(string(out), "not part of a cluster") {
		t.Fatalf("serve --replicas 3 on one NATS server: %v after %s\n%.2000s", err, time.Since(start).Round(time.Millisecond), out)
	}
}

// TestServeSaysTheNATSPortIsTaken: with the embedded server's port held by
// something else (another serve, a NATS server), serve says so at once and
// names the flag; it used to wait 10 s and report the server "not ready".
func TestServeSaysTheNATSPortIsTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	start := time.Now()
	out, err := exec.Command(mustBuild(t), "serve", "--data", filepath.Join(t.TempDir(), "data"),
		"--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--nats-listen", ln.Addr().String()).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "address already in use") || !strings.Contains(string(out), "--nats-listen") {
		t.Fatalf("serve on a taken NATS port: %v\n%s", err, out)
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("it took %v to say so", d)
	}
}
