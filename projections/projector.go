package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// DefaultMaxBatch is the most messages folded into one Pebble batch.
const DefaultMaxBatch = 2000

// ConsumerHeartbeat is the idle heartbeat the projector asks of its ordered
// consumer. Two missed heartbeats make the client re-create the consumer: if
// the NATS node holding it fails, folding resumes after ~4 s instead of the
// client default's ~10 s (measured in the cluster test).
const ConsumerHeartbeat = 2 * time.Second

// Config configures a Projector.
type Config struct {
	JS       jetstream.JetStream
	Stream   string // the callback stream, e.g. XPORTCN_CALLBACKS
	Store    *Store
	Logger   *slog.Logger
	MaxBatch int // messages per Pebble batch; 0 means DefaultMaxBatch
	// Until, when not 0, is the last stream sequence to fold: Run returns
	// once the checkpoint reaches it and folds nothing past it (an audit
	// folds exactly as far as the projection it checks).
	Until uint64
	// FreshStore says that Store was created empty for this projector and
	// that nothing else writes records to it (a rebuild, an audit's
	// reference fold). The projector then remembers which records it wrote
	// and does not look up the others, which a new store cannot hold (see
	// writtenKeys). Ignored when the store already has a checkpoint.
	FreshStore bool
	// WaitForNATS makes Run wait NATS out when it cannot create its consumer
	// (see MaxNATSBackoff) instead of returning the error: for the live
	// projection and rebuilds, not for an audit that a person waits for.
	WaitForNATS bool
}

// Projector folds the callback stream into a Store, from the store's
// checkpoint on. One projector writes to a store at a time.
type Projector struct {
	cfg        Config
	checkpoint atomic.Uint64
	counts     atomic.Pointer[Counts]
	// written are the records written so far when the store was fresh (nil
	// otherwise). Only the folding goroutine uses it.
	written *writtenKeys
}

// NewProjector returns a projector positioned at the store's checkpoint.
func NewProjector(cfg Config) (*Projector, error) {
	if cfg.JS == nil || cfg.Store == nil || cfg.Stream == "" {
		return nil, errors.New("projector: JS, Stream and Store are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	cp, err := cfg.Store.Checkpoint()
	if err != nil {
		return nil, err
	}
	counts, err := cfg.Store.Counts()
	if err != nil {
		return nil, err
	}
	p := &Projector{cfg: cfg}
	if cfg.FreshStore && cp == 0 {
		p.written = newWrittenKeys()
	}
	p.checkpoint.Store(cp)
	p.counts.Store(&counts)
	return p, nil
}

// Checkpoint returns the last stream sequence committed to the store.
func (p *Projector) Checkpoint() uint64 { return p.checkpoint.Load() }

// Counts returns the running totals as of the last commit.
func (p *Projector) Counts() Counts { return *p.counts.Load() }

// Run folds messages as they arrive until ctx is done. Every message is
// folded exactly once into the store: a batch is committed whole with its
// checkpoint, and reading resumes after the checkpoint. On return the last
// batch taken from the stream has been committed. It returns nil when ctx
// ends, or the first storage error (the store is then unchanged past the last
// good commit), or the error of creating its consumer: a missing stream, or
// with Config.WaitForNATS unset, NATS not answering. Once reading, it rides
// out NATS being away (the ordered consumer resumes by itself).
func (p *Projector) Run(ctx context.Context) error {
	if p.reachedUntil() {
		return nil
	}
	cons, err := p.consumerWhenReachable(ctx)
	if err != nil || ctx.Err() != nil {
		return err // nil when stopped before it started: nothing to flush
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(p.cfg.MaxBatch), jetstream.PullHeartbeat(ConsumerHeartbeat))
	if err != nil {
		return fmt.Errorf("projector: subscribe: %w", err)
	}
	// Three stages, so that decoding the next batch overlaps folding and
	// committing this one: read (NATS) -> decode (every core) -> fold and
	// commit (one goroutine, stream order).
	msgs := make(chan Message, p.cfg.MaxBatch)
	batches := make(chan []decoded, 1)
	// Folded batches go back to the decoder, to be decoded into again: a
	// batch of decoded messages is a few hundred KB, allocated per batch
	// otherwise. Nothing of a decoded message is kept once it is folded.
	spare := make(chan []decoded, 2)
	readErr := make(chan error, 1)
	stop := make(chan struct{})
	var stages sync.WaitGroup
	stages.Add(2)
	go func() { defer stages.Done(); readErr <- p.read(it, msgs, stop) }()
	go func() { defer stages.Done(); p.decodeStage(msgs, batches, spare, stop) }()
	defer func() {
		close(stop)
		it.Stop()
		stages.Wait()
	}()
	// Folding a batch overlaps committing the one before it: the batch
	// being folded reads the records of the previous one from it, so it does
	// not matter whether that commit has reached the store yet. At most one
	// commit is in flight; the checkpoint moves when it is done.
	var recent []*batch // the batches folded last, oldest first (see batch.recent)
	var committing chan error
	waitCommit := func() error {
		if committing == nil {
			return nil
		}
		err := <-committing
		committing = nil
		return err
	}
	defer waitCommit() // every return below has waited already, but an error may skip it
	for {
		var batch []decoded
		select {
		case <-ctx.Done():
			return waitCommit()
		case err := <-readErr:
			readErr <- err // for a later look; the deferred wait does not need it
			if err == nil {
				err = errors.New("projector: the stream subscription closed")
			}
			return errors.Join(err, waitCommit())
		case batch = <-batches:
		}
		b, err := p.foldBatch(recent, batch)
		if err != nil {
			return errors.Join(err, waitCommit())
		}
		clear(batch[:cap(batch)]) // let its messages and bodies go while it waits
		select {
		case spare <- batch:
		default:
		}
		if err := waitCommit(); err != nil {
			return err
		}
		b.seal()
		recent = p.keepRecent(recent, b)
		committing = make(chan error, 1)
		go func() {
			err := b.commit()
			if err == nil {
				p.counts.Store(&b.counts)
				p.checkpoint.Store(b.last)
			}
			committing <- err
		}()
		if p.cfg.Until != 0 && b.last >= p.cfg.Until {
			return waitCommit()
		}
	}
}

func (p *Projector) reachedUntil() bool {
	return p.cfg.Until != 0 && p.Checkpoint() >= p.cfg.Until
}

// decodeStage groups the messages waiting into batches of up to MaxBatch
// (never past Until) and decodes each batch on every core, into a slice
// from spare when there is one.
func (p *Projector) decodeStage(msgs <-chan Message, out chan<- []decoded, spare <-chan []decoded, stop <-chan struct{}) {
	var batch []Message // reused: decodeAll copies the messages
	for {
		clear(batch[:cap(batch)]) // let the last batch's messages go
		batch = batch[:0]
		select {
		case <-stop:
			return
		case m := <-msgs:
			batch = append(batch, m)
		}
	more:
		for len(batch) < p.cfg.MaxBatch {
			select {
			case m := <-msgs:
				batch = append(batch, m)
			default:
				break more
			}
		}
		if u := p.cfg.Until; u != 0 {
			n := 0
			for n < len(batch) && batch[n].Seq <= u {
				n++
			}
			if batch = batch[:n]; n == 0 {
				continue
			}
		}
		var into []decoded
		select {
		case into = <-spare:
		default:
		}
		select {
		case out <- decodeAll(batch, into):
		case <-stop:
			return
		}
	}
}

// recentMessages is how many messages' worth of folded batches the
// projector keeps to read records from (besides the batch being folded): a
// refund's or order's callbacks tend to come close together, and a record
// read from memory costs no store read, decoding or restoring. It bounds the
// memory they hold.
const recentMessages = 3 * DefaultMaxBatch

// keepRecent returns recent with b added (b's commit is about to start; all
// before it are committed) and the oldest batches dropped while the others
// hold recentMessages messages.
func (p *Projector) keepRecent(recent []*batch, b *batch) []*batch {
	b.recent = nil // read only from the projector's list from now on
	recent = append(recent, b)
	held := 0
	for _, r := range recent[1:] {
		held += r.msgs
	}
	for len(recent) > 1 && held >= recentMessages {
		recent[0] = nil
		recent = recent[1:]
		held -= recent[0].msgs
	}
	return recent
}

// foldBatch folds one decoded batch after the recent ones (none: after the
// store's checkpoint), without committing it.
func (p *Projector) foldBatch(recent []*batch, msgs []decoded) (*batch, error) {
	var b *batch
	if n := len(recent); n > 0 {
		prev := recent[n-1]
		b = newBatch(p.cfg.Store, prev.counts)
		b.last, b.recent = prev.last, recent
	} else {
		b = newBatch(p.cfg.Store, p.Counts())
		b.last = p.Checkpoint()
	}
	b.written = p.written
	for i := range msgs {
		if err := b.apply(&msgs[i]); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// consumerWhenReachable is consumer, retried with Config.WaitForNATS while
// NATS cannot answer (see MaxNATSBackoff). A stream that does not exist is
// an error at once. It returns nil, nil when ctx ends.
func (p *Projector) consumerWhenReachable(ctx context.Context) (jetstream.Consumer, error) {
	var away backoff
	for {
		cons, err := p.consumer(ctx)
		switch {
		case ctx.Err() != nil:
			return nil, nil
		case err == nil:
			return cons, nil
		case !p.cfg.WaitForNATS || errors.Is(err, jetstream.ErrStreamNotFound):
			return nil, err
		}
		if !sleep(ctx, away.next(p.cfg.Logger, "projector: NATS unavailable; will retry", err)) {
			return nil, nil
		}
	}
}

func (p *Projector) consumer(ctx context.Context) (jetstream.Consumer, error) {
	stream, err := p.cfg.JS.Stream(ctx, p.cfg.Stream)
	if err != nil {
		return nil, fmt.Errorf("projector: stream %s: %w", p.cfg.Stream, err)
	}
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	if cp := p.Checkpoint(); cp > 0 {
		cfg = jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: cp + 1}
	}
	cons, err := stream.OrderedConsumer(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("projector: consumer on %s: %w", p.cfg.Stream, err)
	}
	return cons, nil
}

// read moves messages from the iterator into out until the iterator closes
// or stop is closed.
func (p *Projector) read(it jetstream.MessagesContext, out chan<- Message, stop <-chan struct{}) error {
	for {
		msg, err := it.Next()
		if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
			return nil
		}
		if err != nil {
			p.cfg.Logger.Warn("projector: reading the stream", "err", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		seq, err := streamSeq(msg.Reply())
		if err != nil {
			return fmt.Errorf("projector: %w", err)
		}
		select {
		case out <- Message{Seq: seq, Subject: msg.Subject(), Header: msg.Headers(), Data: msg.Data()}:
		case <-stop:
			return nil
		}
	}
}
