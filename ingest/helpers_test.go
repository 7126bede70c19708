package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"refundledger/ingest"
)

const fixtureDir = "../testdata/xportcn"

// natsEnv is an embedded JetStream server with a client and the stream.
type natsEnv struct {
	srv *server.Server
	nc  *nats.Conn
	js  jetstream.JetStream
	dir string
}

// mustStartNATS starts an embedded server on a temp store, connects a
// client that reconnects forever and creates the stream.
func mustStartNATS(t testing.TB) *natsEnv {
	t.Helper()
	dir := t.TempDir()
	srv, err := ingest.StartEmbeddedNATS(ingest.EmbeddedOptions{StoreDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	})
	nc, err := nats.Connect(srv.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond),
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := ingest.EnsureStream(ctx, js, 1); err != nil {
		t.Fatal(err)
	}
	return &natsEnv{srv: srv, nc: nc, js: js, dir: dir}
}

// stored returns every message of the stream, in order.
func (e *natsEnv) stored(t testing.TB) []*jetstream.RawStreamMsg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := e.js.Stream(ctx, ingest.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("get seq %d: %v", seq, err)
		}
		out = append(out, m)
	}
	return out
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func mustNewHandler(t testing.TB, cfg ingest.Config) *ingest.Handler {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	h, err := ingest.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := h.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	return h
}

func mustReadFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fixtureNames(t testing.TB) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(fixtureDir, "*.json"))
	if err != nil || len(m) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for i := range m {
		m[i] = filepath.Base(m[i])
	}
	return m
}

// answer is a decoded response.
type answer struct {
	status  int
	header  http.Header
	success ingest.SuccessBody
	err     ingest.ErrorBody
	raw     []byte
}

// do sends one request through h with a recorder and checks the JSON shape
// of the answer: success bodies for 200, the one error shape otherwise.
func do(t testing.TB, h http.Handler, method string, body []byte, hdr http.Header) answer {
	t.Helper()
	req := httptest.NewRequest(method, "/callbacks/xportcn", bytes.NewReader(body))
	for k, vs := range hdr {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return decodeAnswer(t, rec.Code, rec.Header(), rec.Body.Bytes(), method)
}

func decodeAnswer(t testing.TB, status int, hdr http.Header, raw []byte, method string) answer {
	t.Helper()
	a := answer{status: status, header: hdr, raw: raw}
	if method == http.MethodHead {
		return a
	}
	if ct := hdr.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if status == http.StatusOK {
		if err := dec.Decode(&a.success); err != nil {
			t.Fatalf("200 body %q: %v", raw, err)
		}
		if a.success.Code != 200 || a.success.Msg != "success" {
			t.Errorf("200 body = %s", raw)
		}
		return a
	}
	if err := dec.Decode(&a.err); err != nil {
		t.Fatalf("%d body %q: %v", status, raw, err)
	}
	if a.err.Error.Code == "" || a.err.Error.Message == "" {
		t.Errorf("error body without code or message: %s", raw)
	}
	return a
}

// connect returns a JetStream client on url, closed at the end of the test.
func connect(t testing.TB, url string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url)
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
