package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// DefaultMaxBatch is the most messages folded into one Pebble batch.
const DefaultMaxBatch = 2000

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
}

// Projector folds the callback stream into a Store, from the store's
// checkpoint on. One projector writes to a store at a time.
type Projector struct {
	cfg        Config
	checkpoint atomic.Uint64
	counts     atomic.Pointer[Counts]
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
// good commit).
func (p *Projector) Run(ctx context.Context) error {
	if p.reachedUntil() {
		return nil
	}
	cons, err := p.consumer(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped before it started: nothing to flush
		}
		return err
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(p.cfg.MaxBatch))
	if err != nil {
		return fmt.Errorf("projector: subscribe: %w", err)
	}
	msgs := make(chan Message, p.cfg.MaxBatch)
	readErr := make(chan error, 1)
	stop := make(chan struct{})
	go func() { readErr <- p.read(it, msgs, stop) }()
	defer func() {
		close(stop)
		it.Stop()
		<-readErr
	}()
	for {
		var first Message
		select {
		case <-ctx.Done():
			return nil
		case err := <-readErr:
			readErr <- err // for the deferred wait
			if err == nil {
				err = errors.New("projector: the stream subscription closed")
			}
			return err
		case first = <-msgs:
		}
		if err := p.fold(first, msgs); err != nil {
			return err
		}
		if p.reachedUntil() {
			return nil
		}
	}
}

func (p *Projector) reachedUntil() bool {
	return p.cfg.Until != 0 && p.Checkpoint() >= p.cfg.Until
}

// fold folds first and whatever else is already waiting, up to MaxBatch, in
// one commit.
func (p *Projector) fold(first Message, msgs <-chan Message) error {
	batchMsgs := []Message{first}
	for len(batchMsgs) < p.cfg.MaxBatch {
		select {
		case m := <-msgs:
			batchMsgs = append(batchMsgs, m)
			continue
		default:
		}
		break
	}
	if u := p.cfg.Until; u != 0 {
		n := 0
		for n < len(batchMsgs) && batchMsgs[n].Seq <= u {
			n++
		}
		batchMsgs = batchMsgs[:n]
		if n == 0 {
			return nil
		}
	}
	b := newBatch(p.cfg.Store, p.Counts())
	b.last = p.Checkpoint()
	for _, m := range decodeAll(batchMsgs) {
		if err := b.apply(m); err != nil {
			return err
		}
	}
	if err := b.commit(); err != nil {
		return err
	}
	p.counts.Store(&b.counts)
	p.checkpoint.Store(b.last)
	return nil
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
		meta, err := msg.Metadata()
		if err != nil {
			return fmt.Errorf("projector: message metadata: %w", err)
		}
		select {
		case out <- Message{Seq: meta.Sequence.Stream, Subject: msg.Subject(), Header: msg.Headers(), Data: msg.Data()}:
		case <-stop:
			return nil
		}
	}
}
