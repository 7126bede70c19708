package projections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"strconv"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// backfill publishes what a projection rebuilt by another fold version adds
// to the past: every fact of its outbox whose id is not in the events stream
// yet, in outbox order, and then lets the relay publish in order after the
// last outbox entry it walked.
//
// The relay's position (the last event's outbox place) means nothing to a
// new fold: its outbox may hold facts for callbacks long before the position
// (a fix that derives a fact the old fold missed), and number a callback's
// facts otherwise. The events stream keeps every event (no limits, deletes
// denied), so the set of fact ids it holds is the set already published;
// backfill reads it (headers only) and publishes the rest of the new
// outbox, each fact once.
//
// Every event it publishes but the last repeats the position and fold
// version of the stream's last event as the backfill last read it (relays
// of the old fold may publish in order meanwhile, and go on after it;
// HeaderBackfill names the event's own callback), so that a relay stopped
// halfway still sees the old version and backfills again, skipping what was
// published. The last one carries the new version and the place of the last
// outbox entry walked: once it is in the stream, relays publish in order
// after it. So the walk ends only once the projection has folded every
// callback an event names: a projection behind them waits. (When nothing is
// missing there is no last one: the store's backfillMark says where the
// walk ended, for a relay started again.) Publishes expect the stream's last
// sequence, as in order: when another relay published in between, its ids
// are read and the walk goes on, unless that relay already publishes with
// this fold version (its backfill is done).
func (r *Relay) backfill(ctx context.Context, stream jetstream.Stream, store *Store, version int, pos position) (int, error) {
	started := time.Now()
	r.Logger.Info("relay: the last event's place is not one to go on from (another fold version, or a backfill past it); publishing what the outbox holds that the events stream does not",
		"fold_version", version, "last_event_fold_version", pos.foldVersion, "last_event_backfilled_past_its_place", pos.pastPlace)
	r.backfilling.Store(true)
	defer r.backfilling.Store(false)
	b := &backfiller{relay: r, stream: stream, ids: newIDSet(), version: version}
	if _, err := b.scan(ctx); err != nil {
		return 0, err
	}
	b.last = b.scanned
	afterSeq, afterN := uint64(0), -1
	var pending *OutboxEntry // the last missing fact found, published when the next is found or the walk ends
	walked := 0
	waiting := false
	for {
		// Read before the outbox, the checkpoint says how far the walk has
		// looked once the outbox has nothing more (both are one commit).
		cp, err := store.Checkpoint()
		if err != nil {
			return b.published, err
		}
		entries, err := store.OutboxAfter(afterSeq, afterN, r.Batch)
		if err != nil {
			return b.published, err
		}
		if len(entries) == 0 {
			// Relays publish in order after the last event's place, so
			// the walk may end only past every callback an event names:
			// ending before, they would publish again what the old fold
			// (or another relay's backfill) published for the callbacks
			// in between. A projection behind that (another node's, one a
			// rebuild just swapped in) is waited for.
			if cp < b.frontier {
				if !waiting {
					waiting = true
					r.Logger.Info("relay: backfill waits for the projection to fold what the events stream names",
						"checkpoint", cp, "events_name_up_to", b.frontier)
				}
				if !sleep(ctx, r.Poll) {
					return b.published, nil
				}
				continue
			}
			if pending == nil {
				break
			}
			// The last event names this version and a place in this
			// outbox's numbering: not if a rebuild swapped the store
			// during the walk (the relay backfills again, by ids).
			if v, err := store.FoldVersion(); err != nil || v != version {
				return b.published, err
			}
			b.covered = cp
			done, err := b.publish(ctx, pending, &position{seq: afterSeq, n: uint64(afterN), foldVersion: version})
			if done || err != nil {
				return b.published, err
			}
			if b.ids.has(pending.Fact.ID) { // published, by this relay or another
				pending = nil
				break
			}
			continue // events read meanwhile name callbacks past cp
		}
		for i := range entries {
			e := &entries[i]
			if b.ids.has(e.Fact.ID) {
				continue
			}
			if pending != nil {
				if done, err := b.publish(ctx, pending, nil); done || err != nil {
					return b.published, err
				}
			}
			pending = e
		}
		walked += len(entries)
		tail := entries[len(entries)-1]
		afterSeq, afterN = tail.Seq, tail.N
		if pending != nil {
			p := *pending // entries is read anew
			pending = &p
		}
	}
	if afterN >= 0 {
		r.local = &position{seq: afterSeq, n: uint64(afterN)}
		r.place.Store(afterSeq)
	}
	r.backfilled.version, r.backfilled.lastSeq = version, b.last
	mark := backfillMark{FoldVersion: version, EventsLastSeq: b.last}
	if afterN >= 0 {
		mark.Walked, mark.Seq, mark.N = true, afterSeq, uint64(afterN)
	}
	if err := store.setBackfillMark(mark); err != nil {
		r.Logger.Warn("relay: could not record where the backfill ended; a relay started again on this store compares the ids again", "err", err)
	}
	r.Logger.Info("relay: backfill done; publishing in order again",
		"published", b.published, "facts_checked", walked, "events_read", b.scanned, "took", time.Since(started).Round(time.Millisecond))
	return b.published, nil
}

// backfillMark is where a relay's backfill on a store left the events
// stream: the fold version it backfilled for, the stream's last sequence
// then, and the last outbox entry it walked (Walked false: the outbox held
// nothing). A backfill that found nothing missing publishes no event, so the
// stream's last event still names another fold version; without the mark a
// relay started again would read every event's id once more, at every start,
// until a fact is published in order. With it, a relay that finds the
// stream's last sequence unchanged goes on from where the backfill ended
// (resumeBackfilled). The store keeps it beside the projection (audit leaves
// it out); a rebuilt store starts without one, and its relay compares once.
type backfillMark struct {
	FoldVersion   int    `json:"foldVersion"`
	EventsLastSeq uint64 `json:"eventsLastSeq"`
	Walked        bool   `json:"walked"`
	Seq           uint64 `json:"seq"`
	N             uint64 `json:"n"`
}

// setBackfillMark records m. It is not synced: a mark lost in a crash costs
// one more comparison of the ids, nothing else.
func (s *Store) setBackfillMark(m backfillMark) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.broken != nil {
		return s.broken
	}
	return s.db.Set(keyBackfilled, b, pebble.NoSync)
}

// backfillMark returns the mark of the last backfill on the store; ok is
// false when there is none.
func (s *Store) backfillMark() (m backfillMark, ok bool, err error) {
	err = s.getJSON(keyBackfilled, &m)
	if errors.Is(err, ErrNotFound) {
		return m, false, nil
	}
	return m, err == nil, err
}

// resumeBackfilled takes the relay up where a backfill on store left the
// events stream, when nothing was published since (see backfillMark), and
// reports whether it did.
func (r *Relay) resumeBackfilled(store *Store, version int, pos position) bool {
	m, ok, err := store.backfillMark()
	if err != nil {
		r.Logger.Warn("relay: could not read where the last backfill ended; comparing the ids again", "err", err)
		return false
	}
	if !ok || m.FoldVersion != version || m.EventsLastSeq != pos.lastSeq {
		return false
	}
	r.backfilled.version, r.backfilled.lastSeq = version, pos.lastSeq
	if m.Walked {
		r.local = &position{seq: m.Seq, n: m.N}
		r.place.Store(m.Seq)
	}
	r.Logger.Info("relay: the events stream is as the last backfill on this store left it; publishing in order",
		"fold_version", version, "events_last_seq", pos.lastSeq)
	return true
}

// backfiller is the state of one backfill.
type backfiller struct {
	relay     *Relay
	stream    jetstream.Stream
	ids       *idSet     // fact ids in the events stream
	version   int        // the projection's fold version
	scanned   uint64     // the events read into ids: up to this stream sequence
	frontier  uint64     // the last callback those events name (HeaderSourceSeq, HeaderBackfill)
	covered   uint64     // the walk checked every fact of the callbacks up to here
	head      eventPlace // of the last event read
	last      uint64     // the stream's last sequence as this relay knows it
	published int
}

// publish publishes e, unless another relay did meanwhile: as the last
// event of the backfill when last is set (its place and fold version), else
// repeating the place and fold version of the stream's last event as b last
// read it (b.head). done: a relay of this fold version publishes in order,
// so the backfill is over.
func (b *backfiller) publish(ctx context.Context, e *OutboxEntry, last *position) (done bool, err error) {
	for {
		if b.ids.has(e.Fact.ID) {
			return false, nil
		}
		m, err := eventMsg(e)
		if err != nil {
			return false, err
		}
		if last != nil {
			m.Header.Set(HeaderSourceSeq, strconv.FormatUint(last.seq, 10))
			m.Header.Set(HeaderFactIndex, strconv.FormatUint(last.n, 10))
			m.Header.Set(HeaderFoldVersion, strconv.Itoa(last.foldVersion))
		} else {
			// Not the place the backfill started from: relays of the old
			// fold may have published in order since, and one that reads
			// this event goes on after the place it names.
			m.Header.Set(HeaderSourceSeq, b.head.seq)
			m.Header.Set(HeaderFactIndex, b.head.n)
			if b.head.version != "" {
				m.Header.Set(HeaderFoldVersion, b.head.version)
			}
		}
		m.Header.Set(HeaderBackfill, strconv.FormatUint(e.Seq, 10))
		ack, err := b.relay.JS.PublishMsg(ctx, m, jetstream.WithExpectLastSequence(b.last))
		if isWrongLastSequence(err) {
			newest, err := b.scan(ctx)
			if err != nil {
				return false, err
			}
			if newest == b.version && !b.head.past {
				return true, nil
			}
			b.last = b.scanned
			if last != nil && b.frontier > b.covered {
				return false, nil // the last event: not before the walk covers what they name
			}
			continue // against the ids just read
		}
		if err != nil {
			if ctx.Err() != nil {
				return true, nil
			}
			return false, &publishError{fmt.Errorf("relay: backfill %s: %w", e.Fact.ID, err)}
		}
		b.ids.add(e.Fact.ID)
		if !ack.Duplicate {
			b.last = ack.Sequence
			b.published++
			b.relay.published.Add(1)
		}
		return false, nil
	}
}

// eventMsg is the event of an outbox entry, without its position headers.
func eventMsg(e *OutboxEntry) (*nats.Msg, error) {
	body, err := json.Marshal(e.Fact)
	if err != nil {
		return nil, fmt.Errorf("relay: encode fact %s: %w", e.Fact.ID, err)
	}
	m := nats.NewMsg(EventSubject(e.Fact))
	m.Data = body
	m.Header.Set(jetstream.MsgIDHeader, e.Fact.ID)
	return m, nil
}

// eventPlace is the place and fold version headers of an event, as they
// are, and whether it was backfilled past that place (see pastPlace).
type eventPlace struct {
	seq, n, version string
	past            bool
}

// pastPlace reports whether an event with these HeaderSourceSeq and
// HeaderBackfill values was backfilled for a callback past the place it
// names: a backfill walks every callback its projection has folded, and
// publishes there facts that relays going on in order after that place
// would publish again.
func pastPlace(sourceSeq, backfill string) bool {
	b, err := strconv.ParseUint(backfill, 10, 64)
	if err != nil {
		return false
	}
	s, err := strconv.ParseUint(sourceSeq, 10, 64)
	return err == nil && b > s
}

// scan reads the events after b.scanned into b.ids, b.frontier and b.head (see
// scanEventIDs) and moves b.scanned on. It returns the fold version of the
// last one read, -1 when there was nothing to read.
func (b *backfiller) scan(ctx context.Context) (int, error) {
	scanned, newest, err := scanEventIDs(ctx, b.stream, b.ids, b.scanned, &b.frontier, &b.head)
	if err != nil {
		return -1, err
	}
	b.scanned = scanned
	return newest, nil
}

// scanEventIDs adds to ids the fact id (Nats-Msg-Id) of every event after
// stream sequence after, reading headers only, up to the stream's last
// sequence when it starts, and raises *frontier to the largest callback
// sequence they name (HeaderSourceSeq, HeaderBackfill). It returns that
// sequence and the fold version (HeaderFoldVersion, 0 when absent) of the
// event there, whose place it puts in *head; -1 when there was nothing to
// read.
func scanEventIDs(ctx context.Context, stream jetstream.Stream, ids *idSet, after uint64, frontier *uint64, head *eventPlace) (uint64, int, error) {
	newest := -1
	seq, err := readEventHeaders(ctx, stream, after, func(_ uint64, h nats.Header) {
		ids.add(h.Get(jetstream.MsgIDHeader))
		newest, _ = strconv.Atoi(h.Get(HeaderFoldVersion))
		*head = eventPlace{seq: h.Get(HeaderSourceSeq), n: h.Get(HeaderFactIndex), version: h.Get(HeaderFoldVersion),
			past: pastPlace(h.Get(HeaderSourceSeq), h.Get(HeaderBackfill))}
		if s := eventCallback(h); s > *frontier {
			*frontier = s
		}
	})
	if err != nil {
		return after, -1, err
	}
	return seq, newest, nil
}

// eventCallback is the largest callback sequence an event names
// (HeaderSourceSeq, HeaderBackfill); 0 when it names none.
func eventCallback(h nats.Header) uint64 {
	var max uint64
	for _, k := range []string{HeaderSourceSeq, HeaderBackfill} {
		if s, err := strconv.ParseUint(h.Get(k), 10, 64); err == nil && s > max {
			max = s
		}
	}
	return max
}

// readEventHeaders calls fn with the stream sequence and headers of every
// event after stream sequence after, up to the stream's last sequence when
// it starts, in order, reading headers only. It returns the last sequence
// read (after when there was nothing).
func readEventHeaders(ctx context.Context, stream jetstream.Stream, after uint64, fn func(seq uint64, h nats.Header)) (uint64, error) {
	info, err := stream.Info(ctx)
	if err != nil {
		return after, natsErr(fmt.Errorf("events: stream info: %w", err))
	}
	target := info.State.LastSeq
	if target <= after {
		return after, nil
	}
	cfg := jetstream.OrderedConsumerConfig{HeadersOnly: true, DeliverPolicy: jetstream.DeliverAllPolicy}
	if after > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, after+1
	}
	cons, err := stream.OrderedConsumer(ctx, cfg)
	if err != nil {
		return after, natsErr(fmt.Errorf("events: read: %w", err))
	}
	// One pull subscription for the whole read: a Fetch per batch would
	// make the ordered consumer recreate its server-side consumer each time.
	it, err := cons.Messages(jetstream.PullMaxMessages(1000), jetstream.PullHeartbeat(ConsumerHeartbeat))
	if err != nil {
		return after, natsErr(fmt.Errorf("events: read: %w", err))
	}
	defer it.Stop()
	defer context.AfterFunc(ctx, it.Stop)() // Next has no context
	seq := after
	for seq < target {
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil {
				return after, ctx.Err()
			}
			return after, natsErr(fmt.Errorf("events: read: %w", err))
		}
		meta, err := msg.Metadata()
		if err != nil {
			return after, fmt.Errorf("events: metadata: %w", err)
		}
		seq = meta.Sequence.Stream
		fn(seq, msg.Headers())
	}
	return seq, nil
}

// idSet is a set of fact ids, kept as 128-bit hashes: a million ids take
// ~40 MB instead of ~100, and two ids collide with a probability of about
// 10^-27 per pair.
type idSet struct {
	s1, s2 maphash.Seed
	m      map[[2]uint64]struct{}
}

func newIDSet() *idSet {
	return &idSet{s1: maphash.MakeSeed(), s2: maphash.MakeSeed(), m: map[[2]uint64]struct{}{}}
}

func (s *idSet) key(id string) [2]uint64 {
	return [2]uint64{maphash.String(s.s1, id), maphash.String(s.s2, id)}
}

func (s *idSet) add(id string) { s.m[s.key(id)] = struct{}{} }

func (s *idSet) has(id string) bool {
	_, ok := s.m[s.key(id)]
	return ok
}
