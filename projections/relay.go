package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// DefaultRelayPoll is how often an idle relay looks at the outbox.
const DefaultRelayPoll = 100 * time.Millisecond

// Relay publishes the outbox to EventsStream, each fact exactly once,
// whatever crashes, restarts, rebuilds or replicas happen:
//
//   - its position is not kept locally but read from the last event in the
//     stream (HeaderSourceSeq, HeaderFactIndex), so a rebuilt projection or
//     another replica resumes after what was already published;
//   - every publish expects the stream's last sequence to be the one the
//     relay last saw, so two relays never both publish the same fact: the
//     loser re-reads the position and skips what the winner published.
//
// The outbox order is the stream order of the callbacks, which is the same
// on every replica and after every rebuild with the same fold version (and
// across store layouts: a fact is numbered (seq, n) in every layout). A
// projection rebuilt by another fold version numbers its outbox otherwise
// and may hold facts the old one never derived: the relay then backfills
// (backfill.go) before it publishes in order again.
type Relay struct {
	JS     jetstream.JetStream
	Store  func() *Store // the live store (it may be swapped by a rebuild)
	Logger *slog.Logger
	Poll   time.Duration // 0: DefaultRelayPoll
	Batch  int           // facts read from the outbox at a time; 0: 500

	// local is the last fact this relay handled, published or found to be a
	// duplicate (a fact id already in the stream, which does not move the
	// stream's position). Only the relay's goroutine uses it.
	local *position
	// backfilled is where this relay's last backfill left the stream (see
	// backfill): the fold version it backfilled for, and the events
	// stream's last sequence then. When it published no last event of its
	// own (nothing was missing), the stream's last event still names
	// another fold version; the relay goes on in order all the same while
	// that event is the last, but not after anything published since.
	backfilled struct {
		version int
		lastSeq uint64
	}

	// What Status reports, written by the relay's goroutine.
	published   atomic.Uint64
	place       atomic.Uint64
	backfilling atomic.Bool
}

// RelayStatus is what a relay has done since it started (GET /v1/status,
// /metrics).
type RelayStatus struct {
	// Published counts the facts this relay published (in order and
	// backfilled; not those another relay or node published).
	Published uint64 `json:"published"`
	// Position is the callback (stream sequence) whose facts, and those
	// before, are in REFUND_EVENTS: the last this relay handled, or the one
	// the stream's last event names, once this projection has folded it.
	// 0: none yet.
	Position uint64 `json:"position"`
	// Backfilling: it is publishing what a projection of a new fold version
	// adds to the past (see "Exactly once downstream" in README).
	Backfilling bool `json:"backfilling"`
}

// Status returns what the relay has done so far. It is safe to call from
// any goroutine.
func (r *Relay) Status() RelayStatus {
	return RelayStatus{Published: r.published.Load(), Position: r.place.Load(), Backfilling: r.backfilling.Load()}
}

// position is a place in the outbox: the fact (Seq, N) and the events
// stream's last sequence when it was read.
type position struct {
	seq, n  uint64
	lastSeq uint64
	empty   bool // nothing published yet
	// foldVersion is the HeaderFoldVersion of the last event: 0 when it
	// has none (published before the header existed).
	foldVersion int
	// pastPlace: the last event was backfilled for a callback past its
	// place (see pastPlace), so facts after that place may be published.
	pastPlace bool
}

// Run publishes until ctx ends. It returns nil when ctx ends, or an error
// retrying cannot mend (the store failed, the events stream is missing or
// holds a message that is no event). NATS being away, slow or electing a
// stream leader is logged and waited out (see MaxNATSBackoff).
func (r *Relay) Run(ctx context.Context) error {
	if r.Poll <= 0 {
		r.Poll = DefaultRelayPoll
	}
	if r.Batch <= 0 {
		r.Batch = 500
	}
	if r.Logger == nil {
		r.Logger = slog.Default()
	}
	var stream jetstream.Stream
	var away backoff
	for {
		n, err := 0, error(nil)
		if stream == nil {
			stream, err = r.JS.Stream(ctx, EventsStream)
			if err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
				err = natsErr(err)
			}
			if err != nil {
				stream, err = nil, fmt.Errorf("relay: stream %s: %w", EventsStream, err)
			}
		}
		if err == nil {
			n, err = r.publishSome(ctx, stream)
		}
		if ctx.Err() != nil {
			return nil
		}
		wait := r.Poll
		var nerr *natsError
		var perr *publishError
		switch {
		case errors.As(err, &perr):
			// Retried after Poll, not backed off: an attempt that times out
			// already waited, and most failures are brief (a message id still
			// being stored by a relay that just stopped, a leader moving).
			away.warn(r.Logger, "relay: publish failed; will retry", err, wait)
		case errors.As(err, &nerr):
			wait = away.next(r.Logger, "relay: NATS unavailable; will retry", err)
		case err != nil:
			return err
		case n > 0:
			away.reset()
			continue
		default:
			away.reset()
		}
		if !sleep(ctx, wait) {
			return nil
		}
	}
}

// publishSome publishes the next batch of facts after the stream's position
// and returns how many it published.
func (r *Relay) publishSome(ctx context.Context, stream jetstream.Stream) (int, error) {
	pos, err := readPosition(ctx, stream)
	if err != nil {
		return 0, err
	}
	store := r.Store()
	version, err := store.FoldVersion()
	if err != nil {
		return 0, fmt.Errorf("relay: %w", err)
	}
	if version == 0 {
		// Nothing folded yet, so nothing to publish; and an event must not
		// name fold version 0 (which every relay would take for another).
		return 0, nil
	}
	// The place of an event of another fold version is in another
	// numbering of the outbox, and a relay of that fold (a rolling upgrade)
	// may publish after this one's backfill; a backfill stopped halfway may
	// have published facts past the place it repeats: only ids say what is
	// published.
	if !pos.empty && version != 0 && (pos.foldVersion != version || pos.pastPlace) &&
		(r.backfilled.version != version || r.backfilled.lastSeq != pos.lastSeq) &&
		!r.resumeBackfilled(store, version, pos) {
		return r.backfill(ctx, stream, store, version, pos)
	}
	from := pos
	if l := r.local; l != nil && (from.empty || l.seq > from.seq || l.seq == from.seq && l.n > from.n) {
		from.seq, from.n, from.empty = l.seq, l.n, false
	}
	afterSeq, afterN := from.seq, int(from.n)
	if from.empty {
		afterSeq, afterN = 0, -1
	}
	// Read before the outbox: a callback this projection has not folded
	// yet may have facts still to publish, whatever the stream says.
	folded, err := store.Checkpoint()
	if err != nil {
		return 0, err
	}
	entries, err := store.OutboxAfter(afterSeq, afterN, r.Batch)
	if err != nil {
		return 0, err
	}
	// A rebuild may have swapped the store in between: its outbox is
	// numbered otherwise, and its facts must not go out under the old
	// version at the old place. Read again next time.
	if v, err := store.FoldVersion(); err != nil || v != version {
		return 0, err
	}
	// Position names a callback once all its facts are handled: the last
	// one handled (by this relay, or another: the stream's), when this
	// projection has folded it and its outbox holds nothing after it but
	// facts of later callbacks.
	if !from.empty && from.seq > r.place.Load() && folded >= from.seq && (len(entries) == 0 || entries[0].Seq != from.seq) {
		r.place.Store(from.seq)
	}
	published := 0
	last := pos.lastSeq
	for i := range entries {
		e := &entries[i]
		m, err := eventMsg(e)
		if err != nil {
			return published, err
		}
		m.Header.Set(HeaderSourceSeq, strconv.FormatUint(e.Seq, 10))
		m.Header.Set(HeaderFactIndex, strconv.Itoa(e.N))
		m.Header.Set(HeaderFoldVersion, strconv.Itoa(version))
		ack, err := r.JS.PublishMsg(ctx, m, jetstream.WithExpectLastSequence(last))
		if isWrongLastSequence(err) {
			return published, nil // another relay published: re-read the position
		}
		if err != nil {
			if ctx.Err() != nil {
				return published, nil
			}
			return published, &publishError{fmt.Errorf("relay: publish %s: %w", e.Fact.ID, err)}
		}
		r.local = &position{seq: e.Seq, n: uint64(e.N)}
		if next := i + 1; next < len(entries) && entries[next].Seq != e.Seq || next == len(entries) && len(entries) < r.Batch {
			r.place.Store(e.Seq)
		}
		if ack.Duplicate {
			continue // already in the stream; the stream's last sequence did not move
		}
		last = ack.Sequence
		published++
		r.published.Add(1)
	}
	return published, nil
}

// readPosition reads the outbox position of the last event in the stream.
func readPosition(ctx context.Context, stream jetstream.Stream) (position, error) {
	info, err := stream.Info(ctx)
	if err != nil {
		err = fmt.Errorf("relay: stream info: %w", err)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			return position{}, err // deleted: serve stops, and recreates it when started again
		}
		return position{}, natsErr(err)
	}
	if info.State.LastSeq == 0 {
		return position{empty: true}, nil
	}
	msg, err := stream.GetMsg(ctx, info.State.LastSeq)
	if err != nil {
		return position{}, natsErr(fmt.Errorf("relay: last event %d: %w", info.State.LastSeq, err))
	}
	seq, err1 := strconv.ParseUint(msg.Header.Get(HeaderSourceSeq), 10, 64)
	n, err2 := strconv.ParseUint(msg.Header.Get(HeaderFactIndex), 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return position{}, fmt.Errorf("relay: last event %d has no outbox position: %w", info.State.LastSeq, err)
	}
	v, _ := strconv.Atoi(msg.Header.Get(HeaderFoldVersion)) // absent or unreadable: 0, unknown
	return position{seq: seq, n: n, lastSeq: info.State.LastSeq, foldVersion: v,
		pastPlace: pastPlace(msg.Header.Get(HeaderSourceSeq), msg.Header.Get(HeaderBackfill))}, nil
}

// publishError is a failed publish of a fact, retried by Run.
type publishError struct{ err error }

func (e *publishError) Error() string { return e.err.Error() }
func (e *publishError) Unwrap() error { return e.err }

func isWrongLastSequence(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) &&
		(apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}
