package projections_test

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"refundledger/ledger"
	"refundledger/projections"
)

// eventHeaders returns the headers of every event in REFUND_EVENTS.
func (e *env) eventHeaders(t testing.TB) []map[string]string {
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
	var out []map[string]string
	for seq := uint64(1); seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		h := map[string]string{}
		for _, k := range []string{jetstream.MsgIDHeader, projections.HeaderFoldVersion, projections.HeaderBackfill} {
			h[k] = m.Header.Get(k)
		}
		out = append(out, h)
	}
	return out
}

// A projection rebuilt by a new fold version may hold facts the old fold
// never derived, for callbacks long before the relay's position. The relay
// publishes them (and only them) before it goes on in order: downstream ends
// with every fact of the new outbox exactly once, also with two relays
// racing through the backfill, and a relay started again publishes nothing.
func TestRelayBackfillsWhatANewFoldAdds(t *testing.T) {
	e := mustEnv(t)
	// The old fold: no posting facts, and another version.
	_, oldVersion, oldOutbox := e.oldFoldPublished(t)
	for i, h := range e.eventHeaders(t) {
		if h[projections.HeaderFoldVersion] != oldVersion {
			t.Fatalf("event %d (%s) has fold version %q, want %s", i, h[jetstream.MsgIDHeader], h[projections.HeaderFoldVersion], oldVersion)
		}
	}

	// The new fold, rebuilt from the stream.
	fresh := mustOpenStore(t, t.TempDir())
	defer fresh.Close()
	e.project(t, fresh)
	want, err := fresh.Outbox(0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	added := len(want) - len(oldOutbox)
	if added <= 0 {
		t.Fatal("the new fold adds nothing to the past: the test shows nothing")
	}

	t.Run("TwoRelaysPublishWhatIsMissingOnce", func(t *testing.T) {
		// A backfill stopped after its first event, as a crash leaves it.
		published := map[string]bool{}
		for _, id := range e.events(t) {
			published[id] = true
		}
		for _, w := range want {
			if published[w.Fact.ID] {
				continue
			}
			m := nats.NewMsg(projections.EventSubject(w.Fact))
			m.Data = []byte(mustJSON(t, w.Fact))
			m.Header.Set(jetstream.MsgIDHeader, w.Fact.ID)
			last := oldOutbox[len(oldOutbox)-1]
			m.Header.Set(projections.HeaderSourceSeq, strconv.FormatUint(last.Seq, 10))
			m.Header.Set(projections.HeaderFactIndex, strconv.Itoa(last.N))
			m.Header.Set(projections.HeaderFoldVersion, oldVersion)
			m.Header.Set(projections.HeaderBackfill, strconv.FormatUint(w.Seq, 10))
			if _, err := e.js.PublishMsg(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			break
		}
		e.relayUntil(t, fresh, len(want), 2)
		e.requireExactly(t, want)
		backfilled := e.eventHeaders(t)[len(oldOutbox):]
		for i, h := range backfilled {
			if h[projections.HeaderBackfill] == "" {
				t.Fatalf("event %s was not backfilled", h[jetstream.MsgIDHeader])
			}
			// All but the last name the old version (a relay stopped
			// halfway backfills again); the last the new one, which ends it.
			version := oldVersion
			if i == len(backfilled)-1 {
				version = strconv.Itoa(ledger.FoldVersion)
			}
			if h[projections.HeaderFoldVersion] != version {
				t.Fatalf("backfilled event %d of %d (%s) names fold version %q, want %s",
					i+1, len(backfilled), h[jetstream.MsgIDHeader], h[projections.HeaderFoldVersion], version)
			}
		}
		if len(backfilled) != added {
			t.Fatalf("%d events backfilled, want the %d facts the new fold adds to the past", len(backfilled), added)
		}
	})
	t.Run("ThenInOrder", func(t *testing.T) {
		// A relay started again (a new process) finds the new version last
		// and publishes the next callback's facts in order.
		e.publish(t, variant(t, 99, "refundsuccess"))
		e.project(t, fresh)
		if want, err = fresh.Outbox(0, 1_000_000); err != nil {
			t.Fatal(err)
		}
		e.relayUntil(t, fresh, len(want), 1)
		e.requireExactly(t, want)
		headers := e.eventHeaders(t)
		if last := headers[len(headers)-1]; last[projections.HeaderBackfill] != "" ||
			last[projections.HeaderFoldVersion] != strconv.Itoa(ledger.FoldVersion) {
			t.Fatalf("the last event %v was not published in order by the new fold", last)
		}
		if ids := e.events(t); ids[len(ids)-1] != want[len(want)-1].Fact.ID {
			t.Fatalf("the last event is %s, want the outbox's last fact %s", ids[len(ids)-1], want[len(want)-1].Fact.ID)
		}
	})
	t.Run("ARelayStartedAgainPublishesNothing", func(t *testing.T) {
		e.relayUntil(t, fresh, len(want), 1)
		e.requireExactly(t, want)
	})
}

// oldFoldPublished stores 20 refund callbacks and two order callbacks,
// folds them into a store that pretends to be the previous fold version
// (one that derives no posting facts) and relays its outbox: the events
// stream as the old fold left it. It returns that store, its version and
// its outbox.
func (e *env) oldFoldPublished(t *testing.T) (*projections.Store, string, []projections.OutboxEntry) {
	t.Helper()
	old, _ := e.refundsAndOrderProjected(t)
	oldVersion := strconv.Itoa(ledger.FoldVersion - 1)
	outbox := e.makeOld(t, old, oldVersion, ledger.FactPostingBooked)
	e.relayUntil(t, old, len(outbox), 1)
	return old, oldVersion, outbox
}

// makeOld turns a store just folded by this binary into one of an old fold
// that derived no facts of the given kind, and returns its outbox.
func (e *env) makeOld(t *testing.T, store *projections.Store, version, kind string) []projections.OutboxEntry {
	t.Helper()
	if err := store.SetFoldVersion(version); err != nil {
		t.Fatal(err)
	}
	if err := store.DropOutboxFacts(func(f ledger.Fact) bool { return f.Kind == kind }); err != nil {
		t.Fatal(err)
	}
	outbox, err := store.Outbox(0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	return outbox
}

// shortDedupWindow shrinks the events stream's duplicate window to its
// least, 100 ms, and waits it out: what a test publishes next meets the
// stream as it is more than 2 minutes after the events before, when a fact
// published again is stored again.
func (e *env) shortDedupWindow(t *testing.T) {
	t.Helper()
	cfg := projections.EventsStreamConfig(1)
	cfg.Duplicates = 100 * time.Millisecond
	if _, err := e.js.UpdateStream(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // the server forgets message ids on a timer
}

// projectUntil folds the stream into store up to stream sequence until.
func (e *env) projectUntil(t testing.TB, store *projections.Store, until uint64) {
	t.Helper()
	p, err := projections.NewProjector(projections.Config{JS: e.js, Stream: streamName, Store: store, Logger: quiet(), Until: until})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if cp, err := store.Checkpoint(); err != nil || cp != until {
		t.Fatalf("projected to %d (%v), want %d", cp, err, until)
	}
}

// startRelay runs a relay on store until the returned function is called.
func (e *env) startRelay(t *testing.T, store *projections.Store) (stop func()) {
	t.Helper()
	return e.startRelayLogger(t, store, quiet())
}

// startRelayLogger is startRelay with the relay's log going to log.
func (e *env) startRelayLogger(t *testing.T, store *projections.Store, log *slog.Logger) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &projections.Relay{JS: e.js, Store: func() *projections.Store { return store }, Logger: log, Poll: 5 * time.Millisecond, Batch: 7}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := r.Run(ctx); err != nil {
			t.Error(err)
		}
	}()
	return func() { cancel(); <-done }
}

// waitEvents waits until the events stream holds want events, and a little
// longer for a relay that would publish more.
func (e *env) waitEvents(t *testing.T, want int) {
	t.Helper()
	for start := time.Now(); e.eventCount() < want; time.Sleep(10 * time.Millisecond) {
		if time.Since(start) > 20*time.Second {
			t.Fatalf("stuck at %d of %d events", e.eventCount(), want)
		}
	}
	time.Sleep(200 * time.Millisecond)
}

// requireExactly fails unless the events stream holds each fact of outbox
// once and nothing else.
func (e *env) requireExactly(t *testing.T, outbox []projections.OutboxEntry) {
	t.Helper()
	e.requireEachOnce(t, outbox)
	if got := e.eventCount(); got != len(outbox) {
		t.Fatalf("%d events for the %d facts of the outbox", got, len(outbox))
	}
}

// requireEachOnce fails when an event repeats a fact id, or when a fact of
// outbox was never published.
func (e *env) requireEachOnce(t *testing.T, outbox []projections.OutboxEntry) {
	t.Helper()
	seen := map[string]bool{}
	for _, id := range e.events(t) {
		if seen[id] {
			t.Fatalf("fact %s published twice", id)
		}
		seen[id] = true
	}
	for _, w := range outbox {
		if !seen[w.Fact.ID] {
			t.Fatalf("fact %s (callback %d) never published", w.Fact.ID, w.Seq)
		}
	}
}

// A relay whose projection has not yet folded every callback the events
// stream names (another node's, or one just swapped in by a rebuild, which
// may be CaughtUpWithin behind) must not end its backfill at the end of its
// outbox: relays would publish in order from there, again, what the old
// fold published for the callbacks after it.
func TestBackfillWaitsForTheProjectionToReachWhatWasPublished(t *testing.T) {
	e := mustEnv(t)
	e.oldFoldPublished(t)
	e.shortDedupWindow(t)

	fresh := mustOpenStore(t, t.TempDir())
	defer fresh.Close()
	e.projectUntil(t, fresh, 10)
	stop := e.startRelay(t, fresh)
	defer stop()
	time.Sleep(300 * time.Millisecond) // it backfills what it can
	e.project(t, fresh)
	want, err := fresh.Outbox(0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	e.waitEvents(t, len(want))
	stop()
	e.requireExactly(t, want)
}

// While a relay backfills, relays of the old fold still publish in order
// after the stream's last event (other nodes during a rolling upgrade, or
// this node's own relay while its rebuild runs). An event the backfill
// publishes after theirs must repeat their place, not the one the backfill
// started from: else an old relay that reads it (started again, or another
// one) publishes again what it published after that place.
func TestBackfilledEventsKeepThePlaceOfTheOldFoldsRelay(t *testing.T) {
	e := mustEnv(t)
	old, oldVersion, oldOutbox := e.oldFoldPublished(t)
	e.shortDedupWindow(t)
	fresh := mustOpenStore(t, t.TempDir())
	defer fresh.Close()
	// projectUntil folds fresh up to callback until and returns how many
	// events the stream will hold once the backfill has published all but
	// the last fact of fresh's outbox that is not in the stream.
	projectUntil := func(until uint64) int {
		t.Helper()
		published := map[string]bool{}
		for _, id := range e.events(t) {
			published[id] = true
		}
		e.projectUntil(t, fresh, until)
		outbox, err := fresh.Outbox(0, 1_000_000)
		if err != nil {
			t.Fatal(err)
		}
		n := len(published) - 1
		for _, w := range outbox {
			if !published[w.Fact.ID] {
				n++
			}
		}
		return n
	}

	// The backfill publishes all but the last missing fact of the callbacks
	// its projection has folded, and waits for it to fold the rest.
	want := projectUntil(10)
	stop := e.startRelay(t, fresh)
	defer stop()
	e.waitEvents(t, want)

	// The old fold's relay publishes a new callback's facts meanwhile.
	e.publish(t, variant(t, 23, "refundsuccess"))
	e.project(t, old)
	added := len(e.makeOld(t, old, oldVersion, ledger.FactPostingBooked)) - len(oldOutbox)
	if added <= 0 {
		t.Fatal("the new callback has no facts")
	}
	e.relayUntil(t, old, e.eventCount()+added, 1)

	// The backfill goes on as its projection folds further, and stops
	// (a crash, a restart) before its last event.
	e.waitEvents(t, projectUntil(15))
	stop()

	// An old fold's relay started again publishes nothing twice.
	time.Sleep(500 * time.Millisecond) // past the duplicate window
	stopOld := e.startRelay(t, old)
	time.Sleep(500 * time.Millisecond)
	stopOld()
	seen := map[string]bool{}
	for _, id := range e.events(t) {
		if seen[id] {
			t.Fatalf("fact %s published twice", id)
		}
		seen[id] = true
	}
}

// A relay that has backfilled goes on in order after events of its own fold
// version only. Once a relay of the old fold (another node during a rolling
// upgrade) has published after it, the last event's place is in the old
// fold's numbering, which may put a callback's facts otherwise: going on
// after it skips facts, or publishes some again.
func TestAfterItsBackfillARelayTrustsNoPlaceOfAnotherFold(t *testing.T) {
	e := mustEnv(t)
	if _, err := projections.EnsureEventsStream(context.Background(), e.js, 1); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		e.publish(t, variant(t, i, "refundsuccess"))
	}
	// The old fold derived no opened facts: it numbers a refund's facts
	// from its first transition.
	old, _ := e.projectAll(t)
	oldVersion := strconv.Itoa(ledger.FoldVersion - 1)
	oldFacts := len(e.makeOld(t, old, oldVersion, ledger.FactRefundOpened))
	e.relayUntil(t, old, oldFacts, 1)

	// The new fold's relay backfills the opened facts, and keeps running.
	fresh := mustOpenStore(t, t.TempDir())
	defer fresh.Close()
	e.project(t, fresh)
	stop := e.startRelay(t, fresh)
	defer stop()
	want, err := fresh.Outbox(0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	e.waitEvents(t, len(want))

	// The old fold's relay publishes the next refund first (it backfills:
	// the last event is of another fold version).
	e.publish(t, variant(t, 3, "refundsuccess"))
	e.project(t, old)
	added := len(e.makeOld(t, old, oldVersion, ledger.FactRefundOpened)) - oldFacts
	e.relayUntil(t, old, len(want)+added, 1)

	// Then the new fold's projection folds it.
	e.project(t, fresh)
	if want, err = fresh.Outbox(0, 1_000_000); err != nil {
		t.Fatal(err)
	}
	for start := time.Now(); e.eventCount() < len(want) && time.Since(start) < 3*time.Second; {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	stop()
	e.requireExactly(t, want)
}

// A backfill walks the callbacks its projection has folded, which may be
// past the place its events repeat: there it publishes facts that relays of
// the old fold have not published yet. Stopped before its last event (a
// crash), it leaves such an event last; an old fold's relay must not go on
// in order after the place it repeats, which would publish those facts
// again when its projection folds their callbacks.
func TestARelayDoesNotGoOnAfterABackfillThatWentPastItsPlace(t *testing.T) {
	e := mustEnv(t)
	if _, err := projections.EnsureEventsStream(context.Background(), e.js, 1); err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		e.publish(t, variant(t, i, "refundsuccess"))
	}
	old := mustOpenStore(t, t.TempDir())
	defer old.Close()
	oldVersion := strconv.Itoa(ledger.FoldVersion - 1)
	e.projectUntil(t, old, 3)
	published := e.makeOld(t, old, oldVersion, ledger.FactPostingBooked)
	e.relayUntil(t, old, len(published), 1)

	// The new fold's backfill, with a projection at callback 6, published
	// callback 5's opened fact and stopped.
	fresh := mustOpenStore(t, t.TempDir())
	defer fresh.Close()
	e.project(t, fresh)
	outbox, err := fresh.Outbox(4, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	w := outbox[0]
	if w.Seq != 5 || w.Fact.Kind != ledger.FactRefundOpened {
		t.Fatalf("the first fact after callback 4 is %s of callback %d", w.Fact.ID, w.Seq)
	}
	last := published[len(published)-1]
	m := nats.NewMsg(projections.EventSubject(w.Fact))
	m.Data = []byte(mustJSON(t, w.Fact))
	m.Header.Set(jetstream.MsgIDHeader, w.Fact.ID)
	m.Header.Set(projections.HeaderSourceSeq, strconv.FormatUint(last.Seq, 10))
	m.Header.Set(projections.HeaderFactIndex, strconv.Itoa(last.N))
	m.Header.Set(projections.HeaderFoldVersion, oldVersion)
	m.Header.Set(projections.HeaderBackfill, strconv.FormatUint(w.Seq, 10))
	if _, err := e.js.PublishMsg(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	e.shortDedupWindow(t)

	// The old fold's projection folds on, and its relay publishes.
	e.project(t, old)
	oldOutbox := e.makeOld(t, old, oldVersion, ledger.FactPostingBooked)
	e.relayUntil(t, old, len(oldOutbox), 1)
	time.Sleep(300 * time.Millisecond)
	e.requireEachOnce(t, oldOutbox)
}

// The upgrade from a relay that set no fold-version header (before
// Refundledger-Fold-Version existed): a relay of this binary, on a
// projection of the same facts, compares the ids once, publishes nothing
// again, and goes on in order with the next callback's facts; the duplicate
// window is past, so a fact published again would be stored again.
func TestRelayTakesOverFromEventsWithoutAFoldVersion(t *testing.T) {
	e := mustEnv(t)
	store, outbox := e.eightRefundsProjected(t)
	for _, o := range outbox { // as the relay before the header published them
		m := nats.NewMsg(projections.EventSubject(o.Fact))
		m.Data = []byte(mustJSON(t, o.Fact))
		m.Header.Set(jetstream.MsgIDHeader, o.Fact.ID)
		m.Header.Set(projections.HeaderSourceSeq, strconv.FormatUint(o.Seq, 10))
		m.Header.Set(projections.HeaderFactIndex, strconv.Itoa(o.N))
		if _, err := e.js.PublishMsg(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	all := e.oneMoreRefundAfterTheWindow(t, store, outbox)
	stop := e.startRelay(t, store)
	e.waitEvents(t, len(all))
	stop()
	e.requireExactly(t, all)
}

// A backfill that finds nothing missing publishes no event, so the stream's
// last event still names the old fold version. A relay started again on the
// same store (the service restarted) goes on from where that backfill ended
// instead of reading every event's id again, and publishes what comes after
// in order, once. The mark it keeps for that is the relay's: an audit of the
// store still finds it equal to a fresh fold.
func TestARelayStartedAgainDoesNotRepeatABackfillThatFoundNothingMissing(t *testing.T) {
	e := mustEnv(t)
	store, outbox := e.eightRefundsProjected(t)
	// The events as a relay of the previous fold version published them:
	// the same facts, which the new fold derives too.
	if err := store.SetFoldVersion(strconv.Itoa(ledger.FoldVersion - 1)); err != nil {
		t.Fatal(err)
	}
	e.relayUntil(t, store, len(outbox), 1)
	if err := store.SetFoldVersion(strconv.Itoa(ledger.FoldVersion)); err != nil {
		t.Fatal(err)
	}

	const compares, resumes = "relay: the last event's place is not one to go on from", "relay: the events stream is as the last backfill"
	first := &syncLog{}
	stop := e.startRelayLogging(t, store, first)
	first.waitFor(t, "relay: backfill done")
	stop()
	if n := first.count(compares); n != 1 {
		t.Fatalf("the first relay compared the ids %d times, want once:\n%s", n, first)
	}
	e.requireExactly(t, outbox) // nothing was missing, nothing published

	again := &syncLog{}
	stop = e.startRelayLogging(t, store, again)
	defer func() { stop() }()
	again.waitFor(t, resumes)
	time.Sleep(100 * time.Millisecond) // 20 polls
	if n := again.count(compares); n != 0 {
		t.Fatalf("a relay started again compared the ids once more:\n%s", again)
	}

	// It goes on in order from where the backfill ended: the next callback's
	// facts, each once, and nothing of the past again.
	all := e.oneMoreRefundAfterTheWindow(t, store, outbox)
	e.waitEvents(t, len(all))
	stop()
	stop = func() {}
	e.requireExactly(t, all)

	rep, err := projections.Audit(context.Background(), store, projections.AuditConfig{JS: e.js, Stream: streamName,
		Scratch: t.TempDir() + "/scratch", Logger: quiet()})
	if err != nil || !rep.OK {
		t.Fatalf("audit after a backfill: %+v, %v", rep, err)
	}
}

// eightRefundsProjected creates the events stream, stores eight refund
// callbacks and folds them into a store; it returns the store and its
// outbox (nothing published yet).
func (e *env) eightRefundsProjected(t *testing.T) (*projections.Store, []projections.OutboxEntry) {
	t.Helper()
	if _, err := projections.EnsureEventsStream(context.Background(), e.js, 1); err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		e.publish(t, variant(t, i, []string{"refundsuccess", "waitselleragree"}[i%2]))
	}
	return e.projectAll(t)
}

// oneMoreRefundAfterTheWindow lets the events stream's duplicate window pass
// (shortDedupWindow), then stores and folds one more refund callback, and
// returns the store's whole outbox: outbox and the new facts.
func (e *env) oneMoreRefundAfterTheWindow(t *testing.T, store *projections.Store, outbox []projections.OutboxEntry) []projections.OutboxEntry {
	t.Helper()
	e.shortDedupWindow(t)
	e.publish(t, variant(t, 50, "refundsuccess"))
	e.project(t, store)
	all, err := store.Outbox(0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) <= len(outbox) {
		t.Fatal("the new callback made no fact")
	}
	return all
}

// startRelayLogging is startRelay with the relay's log kept in logs.
func (e *env) startRelayLogging(t *testing.T, store *projections.Store, logs *syncLog) (stop func()) {
	t.Helper()
	return e.startRelayLogger(t, store, slog.New(slog.NewTextHandler(logs, nil)))
}

// syncLog is a log written by one goroutine and read by another.
type syncLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *syncLog) count(s string) int { return strings.Count(l.String(), s) }

// waitFor waits until the log holds s.
func (l *syncLog) waitFor(t *testing.T, s string) {
	t.Helper()
	for start := time.Now(); l.count(s) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Since(start) > 20*time.Second {
			t.Fatalf("the log never said %q:\n%s", s, l)
		}
	}
}
