package projections_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"refundledger/ledger/simulate"
	"refundledger/projections"
	"refundledger/proto"
)

const streamName = "XPORTCN_CALLBACKS"

// env is a real embedded NATS server with the callback stream, and a real
// Pebble directory.
type env struct {
	js  jetstream.JetStream
	dir string
}

func mustEnv(t testing.TB) *env {
	t.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats not ready")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: streamName, Subjects: []string{"xportcn.cb.>"}, Storage: jetstream.FileStorage}); err != nil {
		t.Fatal(err)
	}
	return &env{js: js, dir: t.TempDir()}
}

// publish stores a callback the way the ingester does (subject, headers).
func (e *env) publish(t testing.TB, body []byte, extra ...string) uint64 {
	t.Helper()
	m := nats.NewMsg("xportcn.cb.1688.test._")
	m.Data = body
	m.Header.Set(proto.HeaderReceivedAt, "2026-11-27T10:00:00Z")
	for i := 0; i+1 < len(extra); i += 2 {
		m.Header.Set(extra[i], extra[i+1])
	}
	ack, err := e.js.PublishMsg(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	return ack.Sequence
}

func (e *env) lastSeq(t testing.TB) uint64 {
	t.Helper()
	s, err := e.js.Stream(context.Background(), streamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.LastSeq
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// project runs a projector on store until it has folded the whole stream.
func (e *env) project(t testing.TB, store *projections.Store) *projections.Projector {
	t.Helper()
	p, err := projections.NewProjector(projections.Config{JS: e.js, Stream: streamName, Store: store, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	want := e.lastSeq(t)
	for start := time.Now(); p.Checkpoint() < want; time.Sleep(5 * time.Millisecond) {
		if time.Since(start) > 30*time.Second {
			t.Fatalf("projector stuck at %d of %d", p.Checkpoint(), want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return p
}

func mustOpenStore(t testing.TB, dir string) *projections.Store {
	t.Helper()
	s, err := projections.OpenStore(dir, quiet())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "xportcn", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// variant returns the seed refund callback renamed to refund n of order n,
// with the given status (its operations unchanged).
func variant(t testing.TB, n int, status string) []byte {
	b := fixture(t, "1688-refund-refundonly-success.json")
	b = bytes.ReplaceAll(b, []byte("TQ142969441872889407"), fmt.Appendf(nil, "TQ%d", 900000+n))
	b = bytes.ReplaceAll(b, []byte(`"orderId": 2044420321024880794`), fmt.Appendf(nil, `"orderId": %d`, 7000000000000000000+n))
	return bytes.ReplaceAll(b, []byte(`"status": "refundsuccess"`), fmt.Appendf(nil, `"status": %q`, status))
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// runProjection opens the live projection in e.dir and runs it (rebuilding
// if needed) until it has folded the whole stream; it keeps running until
// the test ends.
func (e *env) runProjection(t testing.TB) *projections.Projection {
	t.Helper()
	p, err := projections.OpenProjection(projections.ProjectionConfig{JS: e.js, Stream: streamName, Dir: e.dir, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		p.Close()
	})
	want := e.lastSeq(t)
	for start := time.Now(); p.Checkpoint() < want || p.Rebuilding() != nil; time.Sleep(5 * time.Millisecond) {
		if time.Since(start) > 30*time.Second {
			t.Fatalf("projection stuck at %d of %d", p.Checkpoint(), want)
		}
	}
	return p
}

// restartableNATS is a NATS server that a test can stop and start again on
// the same port and store, as an operator restarting it would.
type restartableNATS struct {
	port int
	dir  string
	ns   *server.Server
}

func newRestartableNATS(t testing.TB) *restartableNATS {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &restartableNATS{port: l.Addr().(*net.TCPAddr).Port, dir: t.TempDir()}
	l.Close()
	r.start(t)
	t.Cleanup(r.stop)
	return r
}

func (r *restartableNATS) start(t testing.TB) {
	t.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: r.port, JetStream: true, StoreDir: r.dir, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats not ready")
	}
	r.ns = ns
}

func (r *restartableNATS) stop() {
	if r.ns != nil {
		r.ns.Shutdown()
		r.ns.WaitForShutdown()
		r.ns = nil
	}
}

// natsAway is how long the tests keep a restartableNATS stopped: several
// times the API timeout of connect's client, so that a request made while
// it is away fails rather than waiting for it to come back.
const natsAway = 1500 * time.Millisecond

// connect returns a JetStream client that reconnects for ever, quickly, and
// whose API requests time out after 200 ms.
func (r *restartableNATS) connect(t testing.TB) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(fmt.Sprintf("nats://127.0.0.1:%d", r.port), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc, jetstream.WithDefaultTimeout(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// requireRidesOutNATS runs run while srv is stopped: it must not return
// while NATS is away; once srv is started again, done must hold within 20 s
// with run still going; then run is stopped and must return nil.
func requireRidesOutNATS(t *testing.T, srv *restartableNATS, what string, run func(context.Context) error, done func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	returned := make(chan error, 1)
	go func() { returned <- run(ctx) }()
	select {
	case err := <-returned:
		t.Fatalf("the %s returned while NATS was away: %v", what, err)
	case <-time.After(natsAway):
	}
	srv.start(t)
	for start := time.Now(); !done(); time.Sleep(10 * time.Millisecond) {
		select {
		case err := <-returned:
			t.Fatalf("the %s returned after NATS came back: %v", what, err)
		default:
		}
		if time.Since(start) > 20*time.Second {
			t.Fatalf("the %s did nothing within 20 s of NATS coming back", what)
		}
	}
	cancel()
	if err := <-returned; err != nil {
		t.Fatalf("%s Run: %v", what, err)
	}
}

// projectAll folds the whole stream into the store at e.dir and returns it,
// closed when the test ends, with its outbox.
func (e *env) projectAll(t testing.TB) (*projections.Store, []projections.OutboxEntry) {
	t.Helper()
	store := mustOpenStore(t, e.dir)
	t.Cleanup(func() { store.Close() })
	e.project(t, store)
	outbox, err := store.Outbox(0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	return store, outbox
}

// publishSimulated stores simulated traffic the way the ingester does.
func (e *env) publishSimulated(t testing.TB, opts simulate.Options) {
	t.Helper()
	for _, cb := range simulate.Generate(opts) {
		m := nats.NewMsg("xportcn.cb.sim")
		m.Data = cb.Body
		m.Header.Set(proto.HeaderReceivedAt, time.UnixMilli(cb.DeliverAt).UTC().Format(time.RFC3339Nano))
		if _, err := e.js.PublishMsg(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
}

// overRefund is the seed refund (167.00) renamed to refund TQ142969441872889499
// of the fixtures' order, which they pay 100.00: its callback makes the order
// over-refunded.
func overRefund(t testing.TB) []byte {
	seed := fixture(t, "1688-refund-refundonly-success.json")
	return bytes.ReplaceAll(bytes.ReplaceAll(seed, []byte("TQ142969441872889407"), []byte("TQ142969441872889499")),
		[]byte(`"orderId": 2044420321024880794`), []byte(`"orderId": 3305075341149134260`))
}
