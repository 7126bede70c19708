package projections

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/sstable"

	"refundledger/ledger"
	"refundledger/proto"
)

// ErrNotFound is returned by the read functions for an unknown refund or order.
var ErrNotFound = errors.New("not found")

// Store is the Pebble database of a projection. It is safe for concurrent
// use: one writer (the projector) and any number of readers. A rebuilt
// projection replaces the database under a Store in one step (swap), so
// readers never see a closed or half-built one.
type Store struct {
	dir string
	log *slog.Logger
	mu  sync.RWMutex // held for reading by every access to db; for writing by Close and swap
	db  *pebble.DB
	// broken is set, under mu, when a swap failed and could not reopen the
	// database it had closed: every access returns it from then on.
	broken error
	// bulk: the store has no write-ahead log and commits without sync (see
	// openBulkStore); otherwise every commit is synced to the log.
	bulk bool

	spareMu sync.Mutex
	spares  []spareBatch // committed write batches kept for reuse
}

// spareBatch is a write batch kept for reuse and the database it belongs to.
type spareBatch struct {
	wb *pebble.Batch
	db *pebble.DB
}

// maxSpareBatches is how many write batches are kept for reuse: one is
// folded into while the one before it commits, and a batch that folded
// nothing to write takes its batch only when it commits, beside the next
// one's (with one spare, a rebuild grew a fresh batch for one commit in
// nine).
const maxSpareBatches = 3

// maxReusedBatch is the largest write batch buffer kept for reuse: a
// batch of DefaultMaxBatch callbacks takes a few MB, and growing a fresh one
// to that size each time cost about as much allocation as the fold itself.
const maxReusedBatch = 16 << 20

// newWriteBatch returns an empty write batch of the database and the
// database it belongs to.
func (s *Store) newWriteBatch() (*pebble.Batch, *pebble.DB) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	s.spareMu.Lock()
	defer s.spareMu.Unlock()
	for n := len(s.spares); n > 0; n-- {
		spare := s.spares[n-1]
		s.spares[n-1] = spareBatch{}
		s.spares = s.spares[:n-1]
		if spare.db == s.db { // else of a database swapped out: dropped
			return spare.wb, spare.db
		}
	}
	return s.db.NewBatch(pebble.WithMaxRetainedSizeBytes(maxReusedBatch)), s.db
}

// releaseWriteBatch takes back a write batch of db that was committed or is
// not wanted, for newWriteBatch to reuse.
func (s *Store) releaseWriteBatch(wb *pebble.Batch, db *pebble.DB) {
	wb.Reset()
	s.spareMu.Lock()
	defer s.spareMu.Unlock()
	if len(s.spares) < maxSpareBatches {
		s.spares = append(s.spares, spareBatch{wb, db})
	}
}

// OpenStore opens (creating if needed) the projection in dir. Pebble locks
// the directory: a second open of the same dir fails. Pebble's errors are
// logged to log (nil: slog.Default()).
func OpenStore(dir string, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.Default()
	}
	db, err := openPebble(dir, log, false)
	if err != nil {
		return nil, err
	}
	return &Store{dir: dir, log: log, db: db}, nil
}

// openBulkStore opens a store for a rebuild: no write-ahead log, commits not
// synced, the data durable only once flush has run. That is safe for a
// projection being built: Pebble persists memtables in commit order, so after
// a crash the directory holds a prefix of the batches, each with its own
// checkpoint, and the rebuild resumes from there. It saves a log write and an
// fsync per batch.
func openBulkStore(dir string, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.Default()
	}
	db, err := openPebble(dir, log, true)
	if err != nil {
		return nil, err
	}
	return &Store{dir: dir, log: log, db: db, bulk: true}, nil
}

// flush makes everything committed durable (the memtables are written out).
func (s *Store) flush() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.broken != nil {
		return s.broken
	}
	if err := s.db.Flush(); err != nil {
		return fmt.Errorf("flush %s: %w", s.dir, err)
	}
	return nil
}

// writeOptions are the options of a batch commit: synced to the log, or, for
// a bulk store, not logged at all.
func (s *Store) writeOptions() *pebble.WriteOptions {
	if s.bulk {
		return pebble.NoSync
	}
	return pebble.Sync
}

// MemTableSize is the size of each Pebble memtable, in bytes. A record is
// rewritten with every callback of its refund; a memtable large enough to
// hold those rewrites lets them collapse in memory instead of being flushed
// and compacted again and again (measured: the larger memtable more than
// halves the cost of a rebuild).
const MemTableSize = 32 << 20

func openPebble(dir string, log *slog.Logger, noWAL bool) (*pebble.DB, error) {
	blocks := int64(BlockCacheSize)
	if noWAL {
		blocks = BulkBlockCacheSize
	}
	opts := &pebble.Options{
		Logger: pebbleLogger{log}, MemTableSize: MemTableSize, DisableWAL: noWAL,
		// Pebble takes its memtables' memory out of the block cache; the
		// cache must be larger than they are to hold any block at all.
		CacheSize: 2*MemTableSize + blocks,
	}
	// Bloom filters on every level: most lookups of a fold are for a refund
	// or order not stored yet, and without a filter each such lookup reads
	// an index and a data block of every table that could hold the key.
	for i := range opts.Levels {
		opts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
		if noWAL {
			// A bulk build writes its tables uncompressed: Snappy was a
			// third of the flushes' and compactions' CPU, and the live store
			// compresses the data as its compactions rewrite it.
			opts.Levels[i].Compression = func() *sstable.CompressionProfile { return sstable.NoCompression }
		}
	}
	if noWAL {
		// A bulk build rewrites most records many times over, and Pebble's
		// default shape (compact L0 from 2 sublevels, a 64 MiB base level,
		// 2 MiB tables growing per level) spent a third of a rebuild's CPU
		// compacting versions about to be replaced. Letting L0 grow deeper
		// and the levels be larger halves that work for a few more tables
		// to look through per read (measured with BenchmarkRebuild100k:
		// 3.8 -> 3.0 CPU seconds per 100k callbacks). The live store, opened
		// with the defaults after the swap, compacts the rest at its pace.
		// Pebble scores L0 at twice its depth over this threshold and
		// compacts it at a score of 1: this is from 8 sublevels (the
		// default 4 is from 2).
		opts.L0CompactionThreshold = 16
		opts.L0StopWritesThreshold = 64
		opts.LBaseMaxBytes = 512 << 20
		for i := range opts.TargetFileSizes {
			opts.TargetFileSizes[i] = 128 << 20
		}
	}
	if testPebbleOptions != nil {
		testPebbleOptions(opts)
	}
	db, err := pebble.Open(dir, opts)
	if err != nil {
		return nil, fmt.Errorf("open pebble %s: %w", dir, err)
	}
	return db, nil
}

// testPebbleOptions, when a test sets it, adjusts the options of the stores
// opened after.
var testPebbleOptions func(*pebble.Options)

// Dir returns the directory the store lives in.
func (s *Store) Dir() string { return s.dir }

// Close closes the database. A bulk store flushes first, having no log, and
// compacts when its L0 is deeper than a live store lets it be: a rebuild
// compacts L0 from 8 sublevels and goes on flushing meanwhile, so it can end
// deeper, and a live store (Pebble's defaults) stops writes at 12, so a
// rebuild swapped in with 12 or more would stall the projector until a
// compaction was done.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken != nil {
		return nil // closed already, or the swap that failed said why
	}
	// From now on every access answers ErrStoreClosed: Pebble would panic.
	s.broken = fmt.Errorf("%w: %s", ErrStoreClosed, s.dir)
	if s.bulk {
		if err := s.db.Flush(); err != nil {
			return errors.Join(fmt.Errorf("flush %s: %w", s.dir, err), s.db.Close())
		}
		if err := s.compactDeepL0(); err != nil {
			return errors.Join(fmt.Errorf("compact %s: %w", s.dir, err), s.db.Close())
		}
	}
	return s.db.Close()
}

// ErrStoreClosed is the error of every access to a store after its Close.
var ErrStoreClosed = errors.New("projection store closed")

// maxL0AtSwap is the most L0 sublevels a bulk store is closed with, some way
// below a live store's 12. Up to it the live store compacts them at its pace
// (at 4, Pebble's default). A rebuild of 1M callbacks ended with 5 and was
// closed in 0.1 s; compacting them all took 3 s.
const maxL0AtSwap = 8

// compactDeepL0 compacts the whole key space when L0 has more than
// maxL0AtSwap sublevels.
func (s *Store) compactDeepL0() error {
	if s.db.Metrics().Levels[0].Sublevels <= maxL0AtSwap {
		return nil
	}
	// Every key starts with a lower-case word and a slash (keys.go).
	return s.db.Compact(context.Background(), []byte("a"), []byte("{"), true)
}

// Checkpoint returns the last stream sequence folded into the store (0: none).
func (s *Store) Checkpoint() (uint64, error) {
	v, err := s.get(keyCheckpoint)
	if err != nil || v == nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("checkpoint: corrupt value of %d bytes", len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// FoldVersion returns the fold version that built the store, 0 for an empty
// store that no version has written yet.
func (s *Store) FoldVersion() (int, error) {
	v, err := s.get(keyFoldVersion)
	if err != nil || v == nil {
		return 0, err
	}
	n, err := strconv.Atoi(string(v))
	if err != nil {
		return 0, fmt.Errorf("fold version: %w", err)
	}
	return n, nil
}

// Layout is the version of the store's keys and value formats (keys.go). A
// store written with another layout is rebuilt from the stream as one built
// by another fold version is, so that a projection is all of one layout and
// an audit compares like with like.
//
//	1  one outbox key per fact
//	2  one outbox key per callback
const Layout = 2

// Built says what built a store: a fold version and a layout. The zero value
// is an empty store.
type Built struct {
	FoldVersion int `json:"foldVersion"`
	Layout      int `json:"layout"`
}

// binaryBuilt is what this binary builds.
var binaryBuilt = Built{FoldVersion: ledger.FoldVersion, Layout: Layout}

// Current reports whether this binary built it (or it is empty).
func (b Built) Current() bool { return b == Built{} || b == binaryBuilt }

func (b Built) String() string {
	return fmt.Sprintf("fold version %d, layout %d", b.FoldVersion, b.Layout)
}

// BuiltBy returns what built the store. A store that has a fold version and
// no layout was written by layout 1, which did not record its layout.
func (s *Store) BuiltBy() (Built, error) { return builtBy(s.get) }

// builtBy is BuiltBy reading with get.
func builtBy(get func([]byte) ([]byte, error)) (Built, error) {
	v, err := get(keyFoldVersion)
	if err != nil || v == nil {
		return Built{}, err
	}
	var b Built
	if b.FoldVersion, err = strconv.Atoi(string(v)); err != nil {
		return Built{}, fmt.Errorf("fold version: %w", err)
	}
	l, err := get(keyLayout)
	if err != nil {
		return Built{}, err
	}
	if l == nil {
		b.Layout = 1
	} else if b.Layout, err = strconv.Atoi(string(l)); err != nil {
		return Built{}, fmt.Errorf("layout: %w", err)
	}
	return b, nil
}

// Refund returns the record of a refund, or ErrNotFound.
func (s *Store) Refund(p proto.Platform, refundID string) (ledger.RefundRecord, error) {
	key := refundKey(p, refundID)
	b, err := s.get(key)
	return decodeRefundAt(key, b, err)
}

// decodeRefundAt decodes the refund stored at key (b, err as get returned).
func decodeRefundAt(key, b []byte, err error) (ledger.RefundRecord, error) {
	if err != nil {
		return ledger.RefundRecord{}, err
	}
	if b == nil {
		return ledger.RefundRecord{}, ErrNotFound
	}
	rec, err := decodeRefund(b)
	if err != nil {
		return rec, fmt.Errorf("decode %s: %w", key, err)
	}
	return rec, nil
}

// Order returns the record of an order, or ErrNotFound.
func (s *Store) Order(p proto.Platform, orderID string) (ledger.OrderRecord, error) {
	key := orderKey(p, orderID)
	b, err := s.get(key)
	if err != nil {
		return ledger.OrderRecord{}, err
	}
	if b == nil {
		return ledger.OrderRecord{}, ErrNotFound
	}
	rec, err := decodeOrder(b)
	if err != nil {
		return rec, fmt.Errorf("decode %s: %w", key, err)
	}
	return rec, nil
}

func (s *Store) getJSON(key []byte, v any) error {
	b, err := s.get(key)
	if err != nil {
		return err
	}
	if b == nil {
		return ErrNotFound
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %s: %w", key, err)
	}
	return nil
}

// get returns a copy of the value at key, nil when absent.
func (s *Store) get(key []byte) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.getLocked(key)
}

// getLocked is get for a caller that holds s.mu.
func (s *Store) getLocked(key []byte) ([]byte, error) {
	if s.broken != nil {
		return nil, s.broken
	}
	v, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	defer closer.Close()
	return append([]byte(nil), v...), nil
}

// scan calls fn for every key with the prefix, in key order, until fn
// returns false. Key and value are only valid during the call.
func (s *Store) scan(prefix []byte, fn func(k, v []byte) bool) error {
	return s.scanFrom(prefix, prefix, fn)
}

// scanFrom is scan starting at the first key >= start.
func (s *Store) scanFrom(prefix, start []byte, fn func(k, v []byte) bool) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.broken != nil {
		return s.broken
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return err
	}
	for ok := it.SeekGE(start); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return err
		}
		if !fn(it.Key(), v) {
			break
		}
	}
	return errors.Join(it.Error(), it.Close())
}

// pebbleLogger keeps Pebble's informational chatter off the service's
// output and sends its errors to the service's log.
type pebbleLogger struct{ log *slog.Logger }

func (pebbleLogger) Infof(string, ...any) {}
func (l pebbleLogger) Errorf(f string, args ...any) {
	l.log.Error("pebble: " + fmt.Sprintf(f, args...))
}
func (pebbleLogger) Fatalf(f string, args ...any) { panic(fmt.Sprintf("pebble: "+f, args...)) }

var _ io.Closer = (*Store)(nil)

// Counts returns the running totals stored with the checkpoint.
func (s *Store) Counts() (Counts, error) {
	var c Counts
	err := s.getJSON(keyCounts, &c)
	if errors.Is(err, ErrNotFound) {
		return Counts{}, nil
	}
	return c, err
}

// BlockCacheSize is the memory the live store's Pebble keeps for blocks read
// from its tables, beyond what its memtables take; BulkBlockCacheSize is a
// rebuild's, smaller because a rebuild reads mostly what it wrote a moment
// ago (still in memtables or the recent batches) and its memory is meant to
// stay flat. Pebble reserves each memtable's size out of the block cache;
// with its default cache (8 MiB) and our memtables (32 MiB) the reservation
// took it all and no block was ever cached, so every read of a record decoded
// an index block and a data block from the file again.
const (
	BlockCacheSize     = 96 << 20
	BulkBlockCacheSize = 32 << 20
)
