package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// CaughtUpWithin is how close (in messages) a rebuild must come to the
// stream's last sequence before it is considered caught up and may replace
// the live projection; the live projector folds the rest.
const CaughtUpWithin = DefaultMaxBatch

// RebuildConfig configures Rebuild.
type RebuildConfig struct {
	JS     jetstream.JetStream
	Stream string
	// Dir is where the new projection is built. A partial build of the same
	// fold version and layout left there by an interrupted rebuild is resumed
	// (it is a consistent projection up to its checkpoint); anything else is
	// removed.
	Dir      string
	Logger   *slog.Logger
	MaxBatch int
	// Progress, when set, is called about every ProgressEvery and once at the end.
	Progress func(RebuildProgress)
	// Now is the clock for rates; default time.Now.
	Now func() time.Time
}

// ProgressEvery is how often Rebuild reports progress.
const ProgressEvery = 250 * time.Millisecond

// RebuildProgress says how far a rebuild has come.
type RebuildProgress struct {
	Dir        string    `json:"dir"`
	Checkpoint uint64    `json:"checkpoint"` // last sequence folded into the new projection
	Target     uint64    `json:"target"`     // the stream's last sequence when last looked at
	Started    time.Time `json:"started"`
	Elapsed    float64   `json:"elapsedSeconds"`
	Rate       float64   `json:"rate"`   // messages per second since the start
	Folded     uint64    `json:"folded"` // messages folded since the start (a resumed rebuild began at a checkpoint)
	Done       bool      `json:"done"`
}

// Rebuild folds the stream from its first message into a new store at
// cfg.Dir until it has caught up (within CaughtUpWithin of the stream's last
// sequence), and returns that store open, flushed, with no projector
// running: it is meant to be closed or swapped in (Replace), not written
// further. The build runs without a write-ahead log (see openBulkStore). If
// ctx ends first it returns ctx's error and leaves the partial build (a
// consistent prefix) to be resumed.
func Rebuild(ctx context.Context, cfg RebuildConfig) (*Store, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := prepareRebuildDir(cfg.Dir, cfg.Logger); err != nil {
		return nil, err
	}
	store, err := openBulkStore(cfg.Dir, cfg.Logger)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Store, error) {
		store.Close()
		return nil, err
	}
	// A resumed build has a checkpoint, and the projector then looks every
	// record up; a new one skips the lookups of records it never wrote.
	// NATS being away is waited out (see MaxNATSBackoff), a missing stream is
	// an error.
	proj, err := NewProjector(Config{JS: cfg.JS, Stream: cfg.Stream, Store: store, Logger: cfg.Logger,
		MaxBatch: cfg.MaxBatch, FreshStore: true, WaitForNATS: true})
	if err != nil {
		return fail(err)
	}
	var away backoff
	stream, err := cfg.JS.Stream(ctx, cfg.Stream)
	for err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) && ctx.Err() == nil {
		if !sleep(ctx, away.next(cfg.Logger, "rebuild: NATS unavailable; will retry", err)) {
			break
		}
		stream, err = cfg.JS.Stream(ctx, cfg.Stream)
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return fail(fmt.Errorf("rebuild: stream %s: %w", cfg.Stream, err))
	}
	away.reset()
	runCtx, stop := context.WithCancel(ctx)
	defer stop() // halt stops it on the way out too, but not every path halts
	done := make(chan error, 1)
	go func() { done <- proj.Run(runCtx) }()
	halt := func() error {
		stop()
		return <-done
	}

	prog := RebuildProgress{Dir: cfg.Dir, Started: cfg.Now()}
	startCP := proj.Checkpoint()
	// The end is looked for often, progress reported every ProgressEvery.
	tick := time.NewTicker(ProgressEvery / 10)
	defer tick.Stop()
	var reported time.Time
	var retryAt time.Time // of stream info, while NATS does not answer
	for {
		prog.Checkpoint = proj.Checkpoint()
		prog.Elapsed = cfg.Now().Sub(prog.Started).Seconds()
		prog.Folded = prog.Checkpoint - startCP
		if prog.Elapsed > 0 {
			prog.Rate = float64(prog.Folded) / prog.Elapsed
		}
		// The target is the stream's end when first looked at; reached, it is
		// looked at again, and the rebuild ends once it is within
		// CaughtUpWithin of the end.
		if (prog.Target == 0 || prog.Checkpoint >= prog.Target) && !time.Now().Before(retryAt) {
			info, err := stream.Info(ctx)
			switch {
			case err != nil && errors.Is(err, jetstream.ErrStreamNotFound):
				return fail(errors.Join(fmt.Errorf("rebuild: stream info: %w", err), halt()))
			case err != nil:
				// NATS away or electing the stream's leader: the projector
				// waits it out too; look again later.
				if ctx.Err() == nil {
					retryAt = time.Now().Add(away.next(cfg.Logger, "rebuild: NATS unavailable; will retry", err))
				}
			case prog.Target != 0 && prog.Checkpoint+CaughtUpWithin >= info.State.LastSeq || info.State.LastSeq == 0:
				if err := halt(); err != nil {
					return fail(err)
				}
				prog.Checkpoint, prog.Target, prog.Done = proj.Checkpoint(), info.State.LastSeq, true
				prog.Folded = prog.Checkpoint - startCP
				if cfg.Progress != nil {
					cfg.Progress(prog)
				}
				return store, nil
			default:
				prog.Target = info.State.LastSeq
				away.reset()
			}
		}
		if now := cfg.Now(); cfg.Progress != nil && now.Sub(reported) >= ProgressEvery {
			reported = now
			cfg.Progress(prog)
		}
		select {
		case <-ctx.Done():
			return fail(errors.Join(ctx.Err(), halt()))
		case err := <-done:
			if err == nil {
				err = errors.New("rebuild: the projector stopped early")
			}
			return fail(err)
		case <-tick.C:
		}
	}
}

// prepareRebuildDir keeps a resumable partial build of this fold version and
// layout in
// dir and removes anything else.
func prepareRebuildDir(dir string, log *slog.Logger) error {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	s, err := OpenStore(dir, log)
	if err == nil {
		built, verr := s.BuiltBy()
		cerr := s.Close()
		if verr == nil && cerr == nil && built.Current() {
			return nil
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("rebuild: clear %s: %w", dir, err)
	}
	return nil
}

// swap replaces the store's database by the (closed) projection in dir:
// close, rename the live dir aside, rename dir into its place, reopen; then,
// with readers let go, delete the old one. Readers wait for the few
// milliseconds the swap takes and never see a closed database. A swap that
// fails puts the directories back and reopens the old database (see
// swapLocked). A crash in between leaves the live dir missing or old; either
// way the next start folds from the stream again, so the projection is never
// wrong, at worst rebuilt twice.
func (s *Store) swap(dir string) error {
	prev := s.dir + ".prev"
	// One an earlier swap could not delete.
	if err := os.RemoveAll(prev); err != nil {
		return fmt.Errorf("swap: clear %s: %w", prev, err)
	}
	s.mu.Lock()
	err := s.swapLocked(dir, prev)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	// Deleting a large projection takes seconds, and nobody needs to wait
	// for it. The swap is done: a failure here only leaves the old files for
	// the next swap to clear.
	if err := os.RemoveAll(prev); err != nil {
		s.log.Warn("swap: could not delete the replaced projection", "dir", prev, "err", err)
	}
	return nil
}

// swapLocked is swap's part under the write lock. When a step fails, what
// was moved is moved back (the rebuilt projection to dir, the live one to
// s.dir) and the old database is reopened, so the store goes on serving what
// it served; the error says what failed.
func (s *Store) swapLocked(dir, prev string) error {
	if s.broken != nil {
		return s.broken
	}
	if err := s.db.Close(); err != nil {
		return s.reopenAfter(fmt.Errorf("swap: close %s: %w", s.dir, err))
	}
	if err := os.Rename(s.dir, prev); err != nil {
		return s.reopenAfter(fmt.Errorf("swap: move %s aside: %w", s.dir, err))
	}
	if err := os.Rename(dir, s.dir); err != nil {
		return s.reopenAfter(errors.Join(fmt.Errorf("swap: move %s into %s: %w", dir, s.dir, err),
			os.Rename(prev, s.dir)))
	}
	db, err := openPebble(s.dir, s.log, false)
	if err != nil {
		return s.reopenAfter(errors.Join(fmt.Errorf("swap: open the rebuilt projection: %w", err),
			os.Rename(s.dir, dir), os.Rename(prev, s.dir)))
	}
	s.db = db
	return nil
}

// reopenAfter reopens the store's database after a swap failed with err,
// once the directories are back in place. If that fails too, the store is
// broken: from then on every use returns the error (Store.broken) instead of
// touching a closed database, which Pebble answers with a panic.
func (s *Store) reopenAfter(err error) error {
	db, oerr := openPebble(s.dir, s.log, false)
	if oerr != nil {
		s.broken = errors.Join(err, fmt.Errorf("reopen %s: %w", s.dir, oerr))
		return s.broken
	}
	s.db = db
	return err
}

// Replace swaps the rebuilt store into s's place. The rebuilt store is closed
// by Replace and must not be used after.
func (s *Store) Replace(rebuilt *Store) error {
	dir := rebuilt.Dir()
	if err := rebuilt.Close(); err != nil {
		return err
	}
	return s.swap(dir)
}
