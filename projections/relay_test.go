package projections_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"refundledger/projections"
)

// events returns every event in REFUND_EVENTS: Nats-Msg-Id per message.
func (e *env) events(t testing.TB) []string {
	t.Helper()
	ctx := context.Background()
	s, err := e.js.Stream(ctx, projections.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for seq := uint64(1); seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.Header.Get(jetstream.MsgIDHeader))
	}
	return ids
}

// relayUntil runs relays (concurrently) until the events stream holds want
// events, then stops them.
func (e *env) relayUntil(t testing.TB, store *projections.Store, want int, relays int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range relays {
		wg.Add(1)
		r := &projections.Relay{JS: e.js, Store: func() *projections.Store { return store }, Logger: quiet(), Poll: 5 * time.Millisecond, Batch: 7}
		go func() {
			defer wg.Done()
			if err := r.Run(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	s, _ := e.js.Stream(context.Background(), projections.EventsStream)
	for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
		info, err := s.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if int(info.State.Msgs) >= want {
			break
		}
		if time.Since(start) > 20*time.Second {
			t.Fatalf("relay stuck at %d of %d events", info.State.Msgs, want)
		}
	}
	time.Sleep(50 * time.Millisecond) // a relay that would publish too much has the time to
	cancel()
	wg.Wait()
}

// refundsAndOrderProjected creates the events stream, stores 20 refund
// callbacks and an order's creation and payment, and folds them into a
// store; it returns the store and its outbox (nothing published yet).
func (e *env) refundsAndOrderProjected(t *testing.T) (*projections.Store, []projections.OutboxEntry) {
	t.Helper()
	if _, err := projections.EnsureEventsStream(context.Background(), e.js, 1); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		e.publish(t, variant(t, i, []string{"refundsuccess", "waitselleragree"}[i%2]))
	}
	for _, name := range []string{"1688-order-create.json", "1688-order-pay-success.json"} {
		e.publish(t, fixture(t, name))
	}
	return e.projectAll(t)
}

func TestRelay(t *testing.T) {
	e := mustEnv(t)
	store, outbox := e.refundsAndOrderProjected(t)

	requireOnce := func(t *testing.T, got []string, want []projections.OutboxEntry) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%d events, want %d", len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i].Fact.ID {
				t.Fatalf("event %d is %s, want %s", i, got[i], want[i].Fact.ID)
			}
		}
	}

	t.Run("TwoRelaysPublishEachFactOnceInOutboxOrder", func(t *testing.T) {
		e.relayUntil(t, store, len(outbox), 2)
		requireOnce(t, e.events(t), outbox)
	})

	t.Run("ARebuiltProjectionPublishesNothingAgain", func(t *testing.T) {
		fresh := mustOpenStore(t, t.TempDir())
		defer fresh.Close()
		e.project(t, fresh)
		e.publish(t, variant(t, 99, "refundclose"))
		e.project(t, fresh)
		more, err := fresh.Outbox(0, 1_000_000)
		if err != nil {
			t.Fatal(err)
		}
		e.relayUntil(t, fresh, len(more), 1)
		requireOnce(t, e.events(t), more)
	})
}

// A relay waits NATS out: with the server gone it keeps trying instead of
// returning (which would stop serve), and publishes once it is back.
func TestRelayOutlivesNATSBeingAway(t *testing.T) {
	srv := newRestartableNATS(t)
	js := srv.connect(t)
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: streamName, Subjects: []string{"xportcn.cb.>"}, Storage: jetstream.FileStorage}); err != nil {
		t.Fatal(err)
	}
	if _, err := projections.EnsureEventsStream(ctx, js, 1); err != nil {
		t.Fatal(err)
	}
	e := &env{js: js, dir: t.TempDir()}
	for i := range 5 {
		e.publish(t, variant(t, i, "refundsuccess"))
	}
	store, outbox := e.projectAll(t)
	if len(outbox) == 0 {
		t.Fatal("no facts to publish")
	}

	srv.stop()
	r := &projections.Relay{JS: js, Store: func() *projections.Store { return store }, Logger: quiet(), Poll: 10 * time.Millisecond}
	requireRidesOutNATS(t, srv, "relay", r.Run, func() bool { return e.eventCount() >= len(outbox) })
	if got := e.events(t); len(got) != len(outbox) {
		t.Fatalf("%d events for %d facts", len(got), len(outbox))
	}
}

// eventCount is how many events REFUND_EVENTS holds; 0 while NATS cannot
// answer.
func (e *env) eventCount() int {
	s, err := e.js.Stream(context.Background(), projections.EventsStream)
	if err != nil {
		return 0
	}
	info, err := s.Info(context.Background())
	if err != nil {
		return 0
	}
	return int(info.State.Msgs)
}

// A relay says what it did: GET /v1/status and /metrics show it.
func TestRelayStatus(t *testing.T) {
	e := mustEnv(t)
	if _, err := projections.EnsureEventsStream(context.Background(), e.js, 1); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		e.publish(t, variant(t, i, "refundsuccess"))
	}
	proj := e.runProjection(t) // caught up
	outbox, err := proj.Store().Outbox(0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	r := &projections.Relay{JS: e.js, Store: proj.Store, Logger: quiet(), Poll: 5 * time.Millisecond}
	if got := r.Status(); got != (projections.RelayStatus{}) {
		t.Fatalf("status before it ran: %+v", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	for start := time.Now(); e.eventCount() < len(outbox); time.Sleep(5 * time.Millisecond) {
		if time.Since(start) > 20*time.Second {
			t.Fatalf("relay stuck at %d of %d events", e.eventCount(), len(outbox))
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := projections.RelayStatus{Published: uint64(len(outbox)), Position: outbox[len(outbox)-1].Seq}
	if got := r.Status(); got != want {
		t.Fatalf("status %+v, want %+v", got, want)
	}

	api := &projections.API{Projection: proj, Logger: quiet(), Relay: r,
		LastSeq: func(context.Context) (uint64, error) { return e.lastSeq(t), nil }}
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	var st projections.Status
	if code := getJSON(t, srv.URL+"/v1/status", &st); code != http.StatusOK || st.Relay == nil || *st.Relay != want {
		t.Fatalf("/v1/status: %d, relay %+v, want %+v", code, st.Relay, want)
	}
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, line := range []string{
		fmt.Sprintf("refundledger_relay_published_total %d\n", want.Published),
		fmt.Sprintf("refundledger_relay_position %d\n", want.Position),
		"refundledger_relay_backfilling 0\n",
	} {
		if !strings.Contains(string(body), line) {
			t.Fatalf("/metrics lacks %q:\n%s", line, body)
		}
	}
}
