package projections

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"

	"github.com/nats-io/nats.go/jetstream"
)

// ProjectionConfig configures OpenProjection.
type ProjectionConfig struct {
	JS       jetstream.JetStream
	Stream   string
	Dir      string // the live projection's directory, e.g. data/pebble
	Logger   *slog.Logger
	MaxBatch int
}

// Projection is the live projection of a data directory: the store that
// readers use and the projector that keeps it equal to the fold of the
// stream. When the stored fold version differs from ledger.FoldVersion (or
// the stored layout from Layout), Run
// rebuilds into Dir+".rebuild" while the old projection keeps serving, then
// swaps the new one in and goes on folding.
type Projection struct {
	cfg     ProjectionConfig
	store   *Store
	proj    atomic.Pointer[Projector]
	rebuild atomic.Pointer[RebuildProgress]
	// stale is what built the stored projection when that is not this
	// binary's fold version and layout (nil otherwise): Run rebuilds first.
	stale *Built
}

// OpenProjection opens the projection in cfg.Dir (created if missing).
func OpenProjection(cfg ProjectionConfig) (*Projection, error) {
	if cfg.JS == nil || cfg.Stream == "" || cfg.Dir == "" {
		return nil, errors.New("projection: JS, Stream and Dir are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	store, err := OpenStore(cfg.Dir, cfg.Logger)
	if err != nil {
		return nil, err
	}
	p := &Projection{cfg: cfg, store: store}
	built, err := store.BuiltBy()
	if err != nil {
		store.Close()
		return nil, err
	}
	if !built.Current() {
		p.stale = &built
		p.rebuild.Store(&RebuildProgress{Dir: cfg.Dir + ".rebuild"})
	}
	return p, nil
}

// Store returns the live store. It stays valid across a rebuild's swap.
func (p *Projection) Store() *Store { return p.store }

// Run rebuilds if the fold version or layout changed, then folds new messages until
// ctx ends. On return the last batch is committed.
func (p *Projection) Run(ctx context.Context) error {
	if p.stale != nil {
		p.cfg.Logger.Info("fold version or layout changed: rebuilding beside the live projection",
			"stored", p.stale.String(), "binary", binaryBuilt.String())
		rebuilt, err := Rebuild(ctx, RebuildConfig{
			JS: p.cfg.JS, Stream: p.cfg.Stream, Dir: p.cfg.Dir + ".rebuild", Logger: p.cfg.Logger, MaxBatch: p.cfg.MaxBatch,
			Progress: func(pr RebuildProgress) { p.rebuild.Store(&pr) },
		})
		if ctx.Err() != nil {
			// Stopped as the rebuild finished: it may have returned its
			// store all the same. Closed, it flushes what it holds (a bulk
			// store has no log) and lets go of its directory's lock; the
			// next start swaps it in or resumes it.
			if err == nil {
				if cerr := rebuilt.Close(); cerr != nil {
					p.cfg.Logger.Warn("rebuild: close the rebuilt store", "err", cerr)
				}
			}
			return nil
		}
		if err != nil {
			return err
		}
		if err := p.store.Replace(rebuilt); err != nil {
			return err
		}
		p.stale = nil
		p.rebuild.Store(nil)
		p.cfg.Logger.Info("rebuild done: the new projection is live")
	}
	proj, err := NewProjector(Config{JS: p.cfg.JS, Stream: p.cfg.Stream, Store: p.store, Logger: p.cfg.Logger,
		MaxBatch: p.cfg.MaxBatch, WaitForNATS: true})
	if err != nil {
		return err
	}
	p.proj.Store(proj)
	return proj.Run(ctx)
}

// Checkpoint returns the last stream sequence folded into the live store.
func (p *Projection) Checkpoint() uint64 {
	if proj := p.proj.Load(); proj != nil {
		return proj.Checkpoint()
	}
	cp, _ := p.store.Checkpoint()
	return cp
}

// Counts returns the live projection's running totals.
func (p *Projection) Counts() Counts {
	if proj := p.proj.Load(); proj != nil {
		return proj.Counts()
	}
	c, _ := p.store.Counts()
	return c
}

// Rebuilding returns the progress of a rebuild under way, or nil.
func (p *Projection) Rebuilding() *RebuildProgress { return p.rebuild.Load() }

// Close closes the store. Run must have returned.
func (p *Projection) Close() error { return p.store.Close() }
