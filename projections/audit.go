package projections

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/nats-io/nats.go/jetstream"
)

// AuditConfig configures Audit.
type AuditConfig struct {
	JS     jetstream.JetStream
	Stream string
	// Scratch is a directory for the reference fold; it is removed after.
	Scratch string
	Logger  *slog.Logger
	// MaxDiffs bounds the differences listed (all are counted); 0: 20.
	MaxDiffs int
	// Progress, when set, is called while the stream is folded again: once
	// at the start, about every ProgressEvery, and once when the fold has
	// reached the live checkpoint, with folded == total only in that last
	// call. folded is the last stream sequence folded, total the live
	// checkpoint. It is not called when there is nothing to fold, nor
	// during the key comparison that follows the fold.
	Progress func(folded, total uint64)
}

// AuditReport is the outcome of an audit: invariant 2, "the projection
// equals the fold of the stream at its checkpoint", checked key by key.
type AuditReport struct {
	Checkpoint  uint64      `json:"checkpoint"`  // the live projection's, when audited
	Keys        int         `json:"keys"`        // keys compared
	Differences int         `json:"differences"` // keys that differ, are missing or extra
	Diffs       []AuditDiff `json:"diffs"`       // the first MaxDiffs of them
	OK          bool        `json:"ok"`
}

// AuditDiff is one key where the live projection and the reference fold
// disagree. Kind is "missing" (only in the reference), "extra" (only in the
// live projection) or "different".
type AuditDiff struct {
	Key  string `json:"key"`
	Kind string `json:"kind"`
}

// Audit folds the stream from its start up to the live store's checkpoint
// into a scratch projection and compares the two, every key and value (but
// the relay's own, under relay/, which no fold writes). The live store keeps
// serving; the comparison reads one consistent snapshot of
// it (a swap waits until the audit ends).
func Audit(ctx context.Context, live *Store, cfg AuditConfig) (AuditReport, error) {
	if cfg.MaxDiffs <= 0 {
		cfg.MaxDiffs = 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	live.mu.RLock()
	defer live.mu.RUnlock()
	// A projection of another fold version or layout is about to be
	// replaced by a rebuild; compared with this binary's fold it would
	// differ in every key of what changed, which says nothing about it.
	if built, err := builtBy(live.getLocked); err != nil {
		return AuditReport{}, fmt.Errorf("audit: %w", err)
	} else if !built.Current() {
		return AuditReport{}, fmt.Errorf("audit: the projection was built by %s and this binary builds %s: "+
			"it is rebuilt when the service starts (or by refundledger rebuild); audit it after", built, binaryBuilt)
	}
	snap := live.db.NewSnapshot()
	defer snap.Close()
	rep := AuditReport{Diffs: []AuditDiff{}}
	if v, closer, err := snap.Get(keyCheckpoint); err == nil {
		if len(v) == 8 {
			rep.Checkpoint = binary.BigEndian.Uint64(v)
		}
		closer.Close()
	} else if err != pebble.ErrNotFound {
		return rep, fmt.Errorf("audit: read checkpoint: %w", err)
	}

	if err := os.RemoveAll(cfg.Scratch); err != nil {
		return rep, err
	}
	defer os.RemoveAll(cfg.Scratch)
	ref, err := OpenStore(cfg.Scratch, cfg.Logger)
	if err != nil {
		return rep, err
	}
	defer ref.Close()
	if rep.Checkpoint > 0 {
		proj, err := NewProjector(Config{JS: cfg.JS, Stream: cfg.Stream, Store: ref, Logger: cfg.Logger,
			Until: rep.Checkpoint, FreshStore: true})
		if err != nil {
			return rep, err
		}
		if err := runReporting(ctx, proj, rep.Checkpoint, cfg.Progress); err != nil {
			return rep, err
		}
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("audit: stopped: %w", err)
		}
		if proj.Checkpoint() != rep.Checkpoint {
			return rep, fmt.Errorf("audit: the reference fold stopped at %d, before the live checkpoint %d", proj.Checkpoint(), rep.Checkpoint)
		}
		if cfg.Progress != nil {
			cfg.Progress(rep.Checkpoint, rep.Checkpoint)
		}
	}

	a, err := snap.NewIter(nil)
	if err != nil {
		return rep, err
	}
	defer a.Close()
	b, err := ref.db.NewIter(nil)
	if err != nil {
		return rep, err
	}
	defer b.Close()
	diff := func(k []byte, kind string) {
		rep.Differences++
		if len(rep.Diffs) < cfg.MaxDiffs {
			rep.Diffs = append(rep.Diffs, AuditDiff{Key: KeyString(k), Kind: kind})
		}
	}
	okA, okB := a.First(), b.First()
	for okA || okB {
		if okA && bytes.HasPrefix(a.Key(), relayPrefix) {
			okA = a.Next() // the relay's, not the projection's
			continue
		}
		if rep.Keys%(1<<16) == 0 && ctx.Err() != nil {
			return rep, fmt.Errorf("audit: stopped: %w", ctx.Err())
		}
		rep.Keys++
		var c int
		switch {
		case !okA:
			c = 1
		case !okB:
			c = -1
		default:
			c = bytes.Compare(a.Key(), b.Key())
		}
		switch {
		case c < 0:
			diff(a.Key(), "extra")
			okA = a.Next()
		case c > 0:
			diff(b.Key(), "missing")
			okB = b.Next()
		default:
			va, errA := a.ValueAndErr()
			vb, errB := b.ValueAndErr()
			if errA != nil || errB != nil {
				return rep, fmt.Errorf("audit: read %s: %v %v", KeyString(a.Key()), errA, errB)
			}
			if !bytes.Equal(va, vb) {
				diff(a.Key(), "different")
			}
			okA, okB = a.Next(), b.Next()
		}
	}
	if err := a.Error(); err != nil {
		return rep, err
	}
	rep.OK = rep.Differences == 0
	return rep, b.Error()
}

// runReporting runs proj (which stops at total, its Until) and, when progress
// is set, reports its checkpoint at the start and every ProgressEvery until
// Run returns. It never reports total itself: the caller does, once the fold
// is known to have reached it.
func runReporting(ctx context.Context, proj *Projector, total uint64, progress func(folded, total uint64)) error {
	if progress == nil {
		return proj.Run(ctx)
	}
	report := func() {
		if cp := proj.Checkpoint(); cp < total {
			progress(cp, total)
		}
	}
	done := make(chan error, 1)
	go func() { done <- proj.Run(ctx) }()
	report()
	tick := time.NewTicker(ProgressEvery)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return err
		case <-tick.C:
			report()
		}
	}
}

// KeyString renders a projection key for people: the big-endian numbers in
// sequence-keyed families are printed as decimals.
func KeyString(k []byte) string {
	for _, p := range []string{"outbox/", "quarantine/", "ix/updated/"} {
		if bytes.HasPrefix(k, []byte(p)) && len(k) >= len(p)+8 {
			n := binary.BigEndian.Uint64(k[len(p):])
			return p + strconv.FormatUint(n, 10) + string(k[len(p)+8:])
		}
	}
	if bytes.HasPrefix(k, []byte("delivery/")) && len(k) >= 8 {
		return string(k[:len(k)-8]) + strconv.FormatUint(binary.BigEndian.Uint64(k[len(k)-8:]), 10)
	}
	if bytes.Equal(k, keyCheckpoint) {
		return string(k)
	}
	return strconv.QuoteToGraphic(string(k))[1 : len(strconv.QuoteToGraphic(string(k)))-1]
}
