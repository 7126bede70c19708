package projections

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/cockroachdb/pebble/v2"

	"refundledger/ledger"
	"refundledger/proto"
)

// Quarantined records a stored callback that could not be folded. The bytes
// stay in the stream; this says which message and why.
type Quarantined struct {
	Seq     uint64 `json:"seq"`
	Subject string `json:"subject"`
	Reason  string `json:"reason"`
}

// Delivery is one callback of a refund as the history shows it.
// Duplicate: it brought nothing new (a snapshot already folded).
type Delivery struct {
	ledger.Delivery
	Duplicate bool `json:"duplicate"`
}

// deliveryJSON is a Delivery in the API: its times in RFC 3339 (null when
// unknown), as every other time the API shows.
type deliveryJSON struct {
	Seq        uint64      `json:"seq"`
	ReceivedAt ledger.Time `json:"receivedAt"`
	PushedAt   ledger.Time `json:"pushedAt"`
	RetryCount int64       `json:"retryCount"`
	MessageID  string      `json:"messageId"`
	Duplicate  bool        `json:"duplicate"`
}

// MarshalJSON implements json.Marshaler.
func (d Delivery) MarshalJSON() ([]byte, error) {
	return json.Marshal(deliveryJSON{Seq: d.Seq, ReceivedAt: ledger.Time(d.ReceivedAt), PushedAt: ledger.Time(d.PushedAt),
		RetryCount: d.RetryCount, MessageID: d.MessageID, Duplicate: d.Duplicate})
}

// UnmarshalJSON implements json.Unmarshaler (times in either form, as
// ledger.Time reads them).
func (d *Delivery) UnmarshalJSON(b []byte) error {
	var j deliveryJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*d = Delivery{Delivery: ledger.Delivery{Seq: j.Seq, ReceivedAt: int64(j.ReceivedAt), PushedAt: int64(j.PushedAt),
		RetryCount: j.RetryCount, MessageID: j.MessageID}, Duplicate: j.Duplicate}
	return nil
}

// Counts are the projector's running totals, kept in Pebble with the
// checkpoint so they survive restarts and equal a rebuild's.
type Counts struct {
	Messages    uint64 `json:"messages"`    // messages folded (all kinds)
	Refunds     uint64 `json:"refunds"`     // refund callbacks folded
	Orders      uint64 `json:"orders"`      // order callbacks folded
	Unknown     uint64 `json:"unknown"`     // stored callbacks of an unknown type
	Quarantined uint64 `json:"quarantined"` // callbacks that could not be folded
	Facts       uint64 `json:"facts"`       // facts written to the outbox
}

var keyCounts = []byte("meta/counts")

// batch folds messages in stream order into records cached in memory and
// writes the records that changed, the checkpoint, the counts and the outbox
// in one Pebble batch. It is not safe for concurrent use.
type batch struct {
	store *Store
	// recent are the batches folded just before this one, oldest first. The
	// last one's commit may still be running: records are read from them
	// (newest first) before the store, which also saves most reads of a
	// record folded a moment ago.
	recent  []*batch
	msgs    int  // messages folded
	sealed  bool // the index keys of the records are computed (seal)
	refunds map[string]*refundEntry
	orders  map[string]*orderEntry
	// wb holds what the batch writes once (deliveries, outbox facts,
	// quarantine entries) as it folds; the records, indexes, counts and
	// checkpoint are added by commit. wbDB is the database it belongs to.
	wb    *pebble.Batch
	wbDB  *pebble.DB
	buf   []byte   // scratch for encoding
	key   []byte   // scratch for keys
	facts factList // the facts of the message being folded
	// folder folds with memory it reuses: the facts it returns are added
	// to facts before the next call.
	folder ledger.Folder
	counts Counts
	last   uint64
	// written, when not nil, holds every record key written to the store
	// (or maybe more): a record not in it is not looked up. seal adds the
	// batch's own, so it is only used by the folding goroutine.
	written *writtenKeys
}

// refundEntry is a refund record as the batch holds it.
type refundEntry struct {
	rec    ledger.RefundRecord
	oldIdx [][]byte // its index keys as stored (nil: none)
	newIdx [][]byte // its index keys once the batch is committed (set by seal)
	dirty  bool     // changed since it was loaded: to be written
}

// orderEntry is an order record as the batch holds it.
type orderEntry struct {
	rec   ledger.OrderRecord
	dirty bool
}

func newBatch(s *Store, counts Counts) *batch {
	return &batch{
		store: s, counts: counts,
		refunds: map[string]*refundEntry{},
		orders:  map[string]*orderEntry{},
	}
}

// sameSlice reports whether a and b are the same slice. The ledger returns
// its input record itself when a message changes nothing (a duplicate
// delivery, a refund link that did not move) and a record with fresh slices
// otherwise, so this tells an unchanged record, which is not written again.
func sameSlice[T any](a, b []T) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

func refundChanged(old, next *ledger.RefundRecord) bool {
	return !sameSlice(old.Snapshots, next.Snapshots) || !sameSlice(old.Emitted, next.Emitted) ||
		!sameSlice(old.Postings, next.Postings)
}

func orderChanged(old, next *ledger.OrderRecord) bool {
	return !sameSlice(old.Messages, next.Messages) || !sameSlice(old.Refunds, next.Refunds) ||
		!sameSlice(old.Emitted, next.Emitted)
}

// apply folds one decoded message and writes the facts it made true to the
// outbox. Bad input is quarantined, never an error; an error means the store
// failed and the batch must not be committed.
func (b *batch) apply(m *decoded) error {
	if m.Seq <= b.last {
		return fmt.Errorf("message %d out of sequence after %d", m.Seq, b.last)
	}
	b.last = m.Seq
	b.facts.reset()
	if err := b.fold(m); err != nil {
		return err
	}
	if b.facts.n == 0 {
		return nil
	}
	b.buf = b.facts.appendTo(b.buf[:0])
	b.key = appendOutboxKey(b.key[:0], m.Seq)
	return b.writer().Set(b.key, b.buf, nil)
}

// fold folds one message into the batch's records; emit collects its facts.
func (b *batch) fold(m *decoded) error {
	b.msgs++
	b.counts.Messages++
	switch m.kind {
	case kindQuarantine:
		return b.quarantine(m.Message, m.reason)
	case kindRefund:
		b.counts.Refunds++
		return b.applyRefund(m.env.Platform, *m.refund, m.delivery)
	case kindOrder:
		b.counts.Orders++
		e, err := b.order(m.env.Platform, m.order.OrderID)
		if err != nil {
			return err
		}
		next, facts := b.folder.ApplyOrder(e.rec, m.env.Platform, m.env.Type, *m.order, m.delivery)
		e.dirty = e.dirty || orderChanged(&e.rec, &next)
		e.rec = next
		b.emit(facts)
		return nil
	default:
		b.counts.Unknown++
	}
	return nil
}

func (b *batch) applyRefund(p proto.Platform, snap proto.RefundSnapshot, d ledger.Delivery) error {
	e, err := b.refund(p, snap.RefundID)
	if err != nil {
		return err
	}
	next, facts := b.folder.ApplyRefund(e.rec, p, snap, d)
	dv := Delivery{Delivery: d, Duplicate: len(next.Snapshots) == len(e.rec.Snapshots) && len(facts) == 0}
	b.buf = encodeDelivery(b.buf[:0], &dv)
	b.key = appendDeliveryKey(b.key[:0], p, snap.RefundID, d.Seq)
	if err := b.writer().Set(b.key, b.buf, nil); err != nil {
		return err
	}
	changed := refundChanged(&e.rec, &next)
	e.dirty = e.dirty || changed
	e.rec = next
	b.emit(facts)
	if next.State.OrderID == "" || !changed {
		return nil // an unchanged refund has been linked already
	}
	oe, err := b.order(p, next.State.OrderID)
	if err != nil {
		return err
	}
	onext, ofacts := b.folder.LinkRefund(oe.rec, next.State)
	oe.dirty = oe.dirty || orderChanged(&oe.rec, &onext)
	oe.rec = onext
	b.emit(ofacts)
	return nil
}

// writer returns the batch's write batch, taking one from the store first.
func (b *batch) writer() *pebble.Batch {
	if b.wb == nil {
		b.wb, b.wbDB = b.store.newWriteBatch()
	}
	return b.wb
}

func (b *batch) quarantine(m Message, reason string) error {
	b.counts.Quarantined++
	return setJSON(b.writer(), quarantineKey(m.Seq), Quarantined{Seq: m.Seq, Subject: m.Subject, Reason: reason})
}

// emit adds facts of the message being folded to those apply writes to the
// outbox (one key per message, however many facts it has: a limit would
// have to stop the projection at a callback, or skip it, and then the state
// would depend on which callbacks came together).
func (b *batch) emit(facts []ledger.Fact) {
	for i := range facts {
		b.facts.add(&facts[i])
	}
	b.counts.Facts += uint64(len(facts))
}

func (b *batch) refund(p proto.Platform, id string) (*refundEntry, error) {
	kb := appendRefundKey(b.key[:0], p, id)
	b.key = kb
	if e, ok := b.refunds[string(kb)]; ok {
		return e, nil
	}
	k := string(kb)
	for i := len(b.recent) - 1; i >= 0; i-- {
		if pe, ok := b.recent[i].refunds[k]; ok {
			e := &refundEntry{rec: pe.rec, oldIdx: pe.newIdx}
			b.refunds[k] = e
			return e, nil
		}
	}
	e := &refundEntry{}
	if b.written != nil && !b.written.mayContain(kb) {
		b.refunds[k] = e // never written: not in the store
		return e, nil
	}
	rec, err := b.store.Refund(p, id)
	switch {
	case err == nil:
		e.rec, e.oldIdx = rec, refundIndexKeys(rec.State)
	case !errors.Is(err, ErrNotFound):
		return nil, err
	}
	b.refunds[k] = e
	return e, nil
}

func (b *batch) order(p proto.Platform, id string) (*orderEntry, error) {
	kb := appendOrderKey(b.key[:0], p, id)
	b.key = kb
	if e, ok := b.orders[string(kb)]; ok {
		return e, nil
	}
	k := string(kb)
	for i := len(b.recent) - 1; i >= 0; i-- {
		if pe, ok := b.recent[i].orders[k]; ok {
			e := &orderEntry{rec: pe.rec}
			b.orders[k] = e
			return e, nil
		}
	}
	if b.written != nil && !b.written.mayContain(kb) {
		e := &orderEntry{}
		b.orders[k] = e
		return e, nil
	}
	rec, err := b.store.Order(p, id)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	e := &orderEntry{rec: rec}
	b.orders[k] = e
	return e, nil
}

// seal ends the folding: it computes the index keys of the records changed
// (the next batch reads them from this one) and adds the records to be
// written to b.written. The batch is read only after. The projector seals
// each batch in its folding goroutine before the commit starts.
func (b *batch) seal() {
	if b.sealed {
		return
	}
	b.sealed = true
	for k, e := range b.refunds {
		e.newIdx = e.oldIdx
		if e.dirty {
			e.newIdx = refundIndexKeys(e.rec.State)
			b.wrote(k)
		}
	}
	for k, e := range b.orders {
		if e.dirty {
			b.wrote(k)
		}
	}
}

func (b *batch) wrote(key string) {
	if b.written != nil {
		b.written.add(key)
	}
}

// commit writes everything the batch folded, the checkpoint and the counts
// atomically (synced to the log, or for a bulk store flushed later; see
// Store.writeOptions). It seals the batch.
func (b *batch) commit() error {
	b.seal()
	if b.last == 0 {
		return nil
	}
	// The write batch is taken before the read lock: newWriteBatch takes
	// that lock too, and a second RLock would wait behind a Close or swap
	// waiting for the first.
	wb := b.writer()
	b.store.mu.RLock()
	defer b.store.mu.RUnlock()
	defer func() {
		b.wb = nil
		b.store.releaseWriteBatch(wb, b.wbDB)
	}()
	if b.store.broken != nil {
		return b.store.broken
	}
	if b.wbDB != b.store.db {
		return errors.New("commit: the store was replaced while the batch was folded")
	}
	buf := b.buf
	for k, e := range b.refunds {
		if !e.dirty {
			continue
		}
		buf = encodeRefund(buf[:0], &e.rec)
		if err := wb.Set([]byte(k), buf, nil); err != nil {
			return err
		}
		if err := reindex(wb, e.oldIdx, e.newIdx); err != nil {
			return err
		}
	}
	for k, e := range b.orders {
		if !e.dirty {
			continue
		}
		buf = encodeOrder(buf[:0], &e.rec)
		if err := wb.Set([]byte(k), buf, nil); err != nil {
			return err
		}
	}
	b.buf = nil
	if err := setJSON(wb, keyCounts, b.counts); err != nil {
		return err
	}
	if err := wb.Set(keyCheckpoint, binary.BigEndian.AppendUint64(buf[:0], b.last), nil); err != nil {
		return err
	}
	if err := wb.Set(keyFoldVersion, []byte(strconv.Itoa(ledger.FoldVersion)), nil); err != nil {
		return err
	}
	if err := wb.Set(keyLayout, []byte(strconv.Itoa(Layout)), nil); err != nil {
		return err
	}
	if err := wb.Commit(b.store.writeOptions()); err != nil {
		return fmt.Errorf("commit batch up to %d: %w", b.last, err)
	}
	return nil
}

// reindex replaces the index entries old by new in wb, touching only the
// entries that differ.
func reindex(wb *pebble.Batch, old, new [][]byte) error {
	for _, k := range old {
		if !containsKey(new, k) {
			if err := wb.Delete(k, nil); err != nil {
				return err
			}
		}
	}
	for _, k := range new {
		if !containsKey(old, k) {
			if err := wb.Set(k, nil, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

func containsKey(keys [][]byte, k []byte) bool {
	for _, x := range keys {
		if bytes.Equal(x, k) {
			return true
		}
	}
	return false
}

func setJSON(wb *pebble.Batch, key []byte, v any) error {
	buf, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	return wb.Set(key, buf, nil)
}
