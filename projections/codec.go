package projections

import (
	"encoding/binary"
	"errors"
	"fmt"

	"refundledger/ledger"
	"refundledger/proto"
)

// Records are stored in a compact binary form: a format byte, then every
// field of the record in a fixed order, integers as zig-zag varints,
// strings and lists length-prefixed. Only the fold's inputs are stored
// (snapshots or messages, postings, links, emitted fact ids); the state is
// recomputed on load (ledger.RestoreRefund/RestoreOrder). Against
// encoding/json this made a rebuild several times cheaper. A change to the
// record types must change the codec: codec_test.go fills every field by
// reflection and fails when one does not survive the round trip.
//
// Refund records are written in format v2: every distinct operation (by its
// whole content, so two versions of one id are both kept) is stored once in a
// table, and each snapshot lists its operations as indexes into that table,
// in its own list order. A snapshot's strings that equal the previous
// snapshot's are stored as a back-reference. Format v1 (each snapshot with
// its operations inline: quadratic in the number of operations) is still
// read.
const (
	formatRefundV1 byte = 0x01
	formatOrderV1  byte = 0x02
	formatRefundV2 byte = 0x05
)

// errCorrupt is returned for a stored record that cannot be decoded.
var errCorrupt = errors.New("corrupt record")

type encoder struct{ b []byte }

func (e *encoder) int(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) uint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }

func (e *encoder) str(s string) {
	e.uint(uint64(len(s)))
	e.b = append(e.b, s...)
}

func (e *encoder) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

func (e *encoder) strs(l []string) {
	e.uint(uint64(len(l)))
	for _, s := range l {
		e.str(s)
	}
}

type decoder struct {
	b   []byte
	err error
	// whole is the input as one string, ending with b: the strings decoded
	// are cut from it, one allocation for all of them.
	whole string
}

func newDecoder(b []byte) decoder {
	return decoder{b: b, whole: string(b)}
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errCorrupt
	}
	d.b = nil
}

func (d *decoder) int() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) uint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a list length, refusing one longer than the bytes left (each
// element takes at least one byte), so corrupt input cannot make it
// allocate without bound.
func (d *decoder) count() int {
	n := d.uint()
	if n > uint64(len(d.b)) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *decoder) str() string {
	n := d.count()
	at := len(d.whole) - len(d.b)
	s := d.whole[at : at+n]
	d.b = d.b[n:]
	return s
}

func (d *decoder) bool() bool {
	if len(d.b) == 0 || d.b[0] > 1 {
		d.fail()
		return false
	}
	v := d.b[0] == 1
	d.b = d.b[1:]
	return v
}

func (d *decoder) strs() []string {
	n := d.count()
	if n == 0 {
		return nil
	}
	l := make([]string, n)
	for i := range l {
		l[i] = d.str()
	}
	return l
}

// encodeRefund appends the stored form of rec (format v2) to buf.
func encodeRefund(buf []byte, rec *ledger.RefundRecord) []byte {
	e := encoder{b: append(buf, formatRefundV2)}
	e.str(string(rec.Platform))
	e.str(rec.RefundID)
	// The table of distinct operations: the snapshots' lists, in order, with
	// repeats left out. A record holds a handful of distinct operations, so a
	// linear search beats a map.
	var tab [16]*proto.Operation
	ops := tab[:0]
	for i := range rec.Snapshots {
		list := rec.Snapshots[i].Refund.Operations
		for j := range list {
			if indexOfOp(ops, &list[j]) < 0 {
				ops = append(ops, &list[j])
			}
		}
	}
	e.uint(uint64(len(ops)))
	for _, o := range ops {
		e.str(o.ID)
		e.int(o.At)
		e.int(o.Type)
		e.str(o.Remark)
		e.str(o.Description)
		e.int(o.Role)
		e.int(o.MsgType)
		e.str(o.Before)
		e.str(o.After)
	}
	e.uint(uint64(len(rec.Snapshots)))
	var prev *proto.RefundSnapshot
	for i := range rec.Snapshots {
		s := &rec.Snapshots[i]
		e.str(s.Digest)
		e.int(s.PushedAt)
		r := &s.Refund
		if prev == nil {
			prev = &proto.RefundSnapshot{}
		}
		e.strOrSame(r.RefundID, prev.RefundID)
		e.strOrSame(r.ID, prev.ID)
		e.strOrSame(r.OrderID, prev.OrderID)
		e.strOrSame(r.Status, prev.Status)
		for _, v := range [...]int64{r.ApplyPayment, r.ApplyCarriage, r.RefundPayment, r.RefundCarriage,
			r.DisputeType, r.DisputeRequest, r.GoodsStatus, r.CreatedAt, r.ModifiedAt, r.CompletedAt} {
			e.int(v)
		}
		e.bool(r.OnlyRefund)
		e.bool(r.RefundGoods)
		e.uint(uint64(len(r.Operations)))
		for j := range r.Operations {
			e.uint(uint64(indexOfOp(ops, &r.Operations[j])))
		}
		prev = r
	}
	e.uint(uint64(len(rec.Postings)))
	for _, p := range rec.Postings {
		e.str(p.ID)
		e.str(p.Kind)
		e.int(p.Goods)
		e.int(p.Carriage)
		e.int(p.Amount)
		e.int(int64(p.At))
	}
	e.sortedStrs(rec.Emitted)
	return e.b
}

// sortedStrs writes a list of strings, each as the length of the prefix it
// shares with the one before and the rest (front coding: fact ids share
// their refund's prefix).
func (e *encoder) sortedStrs(l []string) {
	e.uint(uint64(len(l)))
	prev := ""
	for _, s := range l {
		n := 0
		for n < len(s) && n < len(prev) && s[n] == prev[n] {
			n++
		}
		e.uint(uint64(n))
		e.str(s[n:])
		prev = s
	}
}

// sortedStrs reads what encoder.sortedStrs wrote. The strings share one
// allocation.
func (d *decoder) sortedStrs() []string {
	n := d.count()
	if n == 0 {
		return nil
	}
	var buf []byte
	ends := make([]int, n)
	prevStart := 0
	for i := range n {
		shared := d.uint()
		if shared > uint64(len(buf)-prevStart) {
			d.fail()
			return nil
		}
		start := len(buf)
		buf = append(buf, buf[prevStart:prevStart+int(shared)]...)
		k := d.count()
		buf = append(buf, d.b[:k]...)
		d.b = d.b[k:]
		ends[i], prevStart = len(buf), start
	}
	if d.err != nil {
		return nil
	}
	all := string(buf)
	l := make([]string, n)
	begin := 0
	for i, end := range ends {
		l[i] = all[begin:end]
		begin = end
	}
	return l
}

func indexOfOp(ops []*proto.Operation, o *proto.Operation) int {
	for k, x := range ops {
		if *x == *o {
			return k
		}
	}
	return -1
}

// strOrSame writes s, or only a mark when it equals prev: the length is
// stored plus one, 0 meaning "the same as prev".
func (e *encoder) strOrSame(s, prev string) {
	if s == prev {
		e.uint(0)
		return
	}
	e.uint(uint64(len(s)) + 1)
	e.b = append(e.b, s...)
}

// strOrSame reads what encoder.strOrSame wrote.
func (d *decoder) strOrSame(prev string) string {
	n := d.uint()
	if n == 0 {
		return prev
	}
	if n-1 > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	at := len(d.whole) - len(d.b)
	s := d.whole[at : at+int(n-1)]
	d.b = d.b[n-1:]
	return s
}

// decodeRefund reads a stored refund record (either format) and restores its
// state.
func decodeRefund(b []byte) (ledger.RefundRecord, error) {
	rec, err := decodeRefundRecord(b)
	if err != nil {
		return ledger.RefundRecord{}, err
	}
	return ledger.RestoreRefund(rec), nil
}

// decodeRefundRecord reads a stored refund record without restoring its
// state.
func decodeRefundRecord(b []byte) (ledger.RefundRecord, error) {
	var rec ledger.RefundRecord
	if len(b) == 0 || (b[0] != formatRefundV1 && b[0] != formatRefundV2) {
		return rec, fmt.Errorf("%w: not a refund record (format byte %v)", errCorrupt, b[:min(len(b), 1)])
	}
	d := newDecoder(b[1:])
	rec.Platform = proto.Platform(d.str())
	rec.RefundID = d.str()
	v1 := b[0] == formatRefundV1
	if v1 {
		d.refundSnapshotsV1(&rec)
	} else {
		d.refundSnapshotsV2(&rec)
	}
	if n := d.count(); n > 0 {
		rec.Postings = make([]ledger.Posting, n)
	}
	for i := range rec.Postings {
		p := &rec.Postings[i]
		p.ID, p.Kind = d.str(), d.str()
		p.Goods, p.Carriage, p.Amount, p.At = d.int(), d.int(), d.int(), ledger.Time(d.int())
	}
	if v1 {
		rec.Emitted = d.strs()
	} else {
		rec.Emitted = d.sortedStrs()
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%w: %d bytes after the refund record", errCorrupt, len(d.b))
	}
	if d.err != nil {
		return ledger.RefundRecord{}, d.err
	}
	return rec, nil
}

func (d *decoder) operation(o *proto.Operation) {
	o.ID, o.At, o.Type = d.str(), d.int(), d.int()
	o.Remark, o.Description = d.str(), d.str()
	o.Role, o.MsgType = d.int(), d.int()
	o.Before, o.After = d.str(), d.str()
}

func (d *decoder) refundFields(r *proto.RefundSnapshot) {
	for _, p := range [...]*int64{&r.ApplyPayment, &r.ApplyCarriage, &r.RefundPayment, &r.RefundCarriage,
		&r.DisputeType, &r.DisputeRequest, &r.GoodsStatus, &r.CreatedAt, &r.ModifiedAt, &r.CompletedAt} {
		*p = d.int()
	}
	r.OnlyRefund, r.RefundGoods = d.bool(), d.bool()
}

// refundSnapshotsV1 reads the snapshots of a v1 record (operations inline).
func (d *decoder) refundSnapshotsV1(rec *ledger.RefundRecord) {
	if n := d.count(); n > 0 {
		rec.Snapshots = make([]ledger.Snapshot, n)
	}
	for i := range rec.Snapshots {
		s := &rec.Snapshots[i]
		s.Digest = d.str()
		s.PushedAt = d.int()
		r := &s.Refund
		r.RefundID, r.ID, r.OrderID, r.Status = d.str(), d.str(), d.str(), d.str()
		d.refundFields(r)
		if n := d.count(); n > 0 {
			r.Operations = make([]proto.Operation, n)
		}
		for j := range r.Operations {
			d.operation(&r.Operations[j])
		}
	}
}

// refundSnapshotsV2 reads the operation table and the snapshots of a v2
// record. The snapshots' operation lists are cut from one backing array.
func (d *decoder) refundSnapshotsV2(rec *ledger.RefundRecord) {
	var ops []proto.Operation
	if n := d.count(); n > 0 {
		ops = make([]proto.Operation, n)
	}
	for k := range ops {
		d.operation(&ops[k])
	}
	n := d.count()
	if n == 0 {
		return
	}
	rec.Snapshots = make([]ledger.Snapshot, n)
	var all []proto.Operation // backing array of every list
	prev := &proto.RefundSnapshot{}
	for i := range rec.Snapshots {
		s := &rec.Snapshots[i]
		s.Digest = d.str()
		s.PushedAt = d.int()
		r := &s.Refund
		r.RefundID = d.strOrSame(prev.RefundID)
		r.ID = d.strOrSame(prev.ID)
		r.OrderID = d.strOrSame(prev.OrderID)
		r.Status = d.strOrSame(prev.Status)
		d.refundFields(r)
		m := d.count()
		if m > 0 {
			if cap(all)-len(all) < m {
				// Each index takes a byte at least: the rest of the
				// record bounds the lists still to come.
				all = make([]proto.Operation, 0, max(m, min((n-i)*m, len(d.b))))
			}
			start := len(all)
			for range m {
				k := d.uint()
				if k >= uint64(len(ops)) {
					d.fail()
					return
				}
				all = append(all, ops[k])
			}
			r.Operations = all[start:len(all):len(all)]
		}
		if d.err != nil {
			return
		}
		prev = r
	}
}

// encodeOrder appends the stored form of rec to buf.
func encodeOrder(buf []byte, rec *ledger.OrderRecord) []byte {
	e := encoder{b: append(buf, formatOrderV1)}
	e.str(string(rec.Platform))
	e.str(rec.OrderID)
	e.uint(uint64(len(rec.Messages)))
	for i := range rec.Messages {
		m := &rec.Messages[i]
		e.str(m.Digest)
		e.str(m.Type)
		e.int(m.PushedAt)
		o := &m.Msg
		e.str(o.OrderID)
		e.str(o.OrderNo)
		e.str(o.Form)
		e.str(o.Status)
		e.int(o.PayStatus)
		e.bool(o.HasTotals)
		for _, v := range []int64{o.TotalAmount, o.ShippingFee, o.ProductAmount, o.Discount, o.RefundAmount} {
			e.int(v)
		}
		e.str(o.CloseReason)
		e.int(o.CreatedAt)
		e.int(o.PaidAt)
	}
	e.uint(uint64(len(rec.Refunds)))
	for _, l := range rec.Refunds {
		e.str(l.RefundID)
		e.str(l.Status)
		e.str(l.Phase)
		e.int(l.Booked)
	}
	e.strs(rec.Emitted)
	return e.b
}

// decodeOrder reads a stored order record and restores its state.
func decodeOrder(b []byte) (ledger.OrderRecord, error) {
	var rec ledger.OrderRecord
	if len(b) == 0 || b[0] != formatOrderV1 {
		return rec, fmt.Errorf("%w: not an order record (format byte %v)", errCorrupt, b[:min(len(b), 1)])
	}
	d := newDecoder(b[1:])
	rec.Platform = proto.Platform(d.str())
	rec.OrderID = d.str()
	if n := d.count(); n > 0 {
		rec.Messages = make([]ledger.OrderSnapshot, n)
	}
	for i := range rec.Messages {
		m := &rec.Messages[i]
		m.Digest, m.Type, m.PushedAt = d.str(), d.str(), d.int()
		o := &m.Msg
		o.OrderID, o.OrderNo, o.Form, o.Status = d.str(), d.str(), d.str(), d.str()
		o.PayStatus = d.int()
		o.HasTotals = d.bool()
		for _, p := range []*int64{&o.TotalAmount, &o.ShippingFee, &o.ProductAmount, &o.Discount, &o.RefundAmount} {
			*p = d.int()
		}
		o.CloseReason = d.str()
		o.CreatedAt, o.PaidAt = d.int(), d.int()
	}
	if n := d.count(); n > 0 {
		rec.Refunds = make([]ledger.RefundLink, n)
	}
	for i := range rec.Refunds {
		l := &rec.Refunds[i]
		l.RefundID, l.Status, l.Phase, l.Booked = d.str(), d.str(), d.str(), d.int()
	}
	rec.Emitted = d.strs()
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%w: %d bytes after the order record", errCorrupt, len(d.b))
	}
	if d.err != nil {
		return ledger.OrderRecord{}, d.err
	}
	return ledger.RestoreOrder(rec), nil
}

const (
	formatFactV1     byte = 0x03
	formatDeliveryV1 byte = 0x04
	formatFactsV1    byte = 0x06 // the facts of one callback (layout 2)
)

// Which optional parts a stored fact carries (bit set).
const (
	factTransition = 1 << iota
	factPosting
	factAnomaly
	factOrder
)

// encodeFact appends the stored form of an outbox fact to buf. Facts become
// JSON only when the relay publishes them, off the fold's path.
func encodeFact(buf []byte, f *ledger.Fact) []byte {
	e := encoder{b: append(buf, formatFactV1)}
	for _, s := range []string{f.ID, f.Kind, string(f.Platform), f.OrderID, f.RefundID, f.Status} {
		e.str(s)
	}
	e.int(int64(f.At))
	var parts uint64
	if f.Transition != nil {
		parts |= factTransition
	}
	if f.Posting != nil {
		parts |= factPosting
	}
	if f.Anomaly != nil {
		parts |= factAnomaly
	}
	if f.Order != nil {
		parts |= factOrder
	}
	e.uint(parts)
	if t := f.Transition; t != nil {
		e.str(t.ID)
		e.int(int64(t.At))
		e.int(t.Type)
		e.str(t.Remark)
		e.int(t.Role)
		e.str(t.From)
		e.str(t.To)
	}
	if p := f.Posting; p != nil {
		e.str(p.ID)
		e.str(p.Kind)
		e.int(p.Goods)
		e.int(p.Carriage)
		e.int(p.Amount)
		e.int(int64(p.At))
	}
	if a := f.Anomaly; a != nil {
		e.str(a.Code)
		e.str(a.Detail)
		e.str(a.Ref)
	}
	if o := f.Order; o != nil {
		e.str(o.Type)
		e.str(o.Status)
		for _, v := range []int64{o.PayStatus, o.TotalAmount, o.ShippingFee, o.ProductAmount, int64(o.At)} {
			e.int(v)
		}
	}
	return e.b
}

// decodeFact reads a stored outbox fact.
func decodeFact(b []byte) (ledger.Fact, error) {
	var f ledger.Fact
	if len(b) == 0 || b[0] != formatFactV1 {
		return f, fmt.Errorf("%w: not a fact (format byte %v)", errCorrupt, b[:min(len(b), 1)])
	}
	d := newDecoder(b[1:])
	f.ID, f.Kind, f.Platform, f.OrderID, f.RefundID, f.Status = d.str(), d.str(), proto.Platform(d.str()), d.str(), d.str(), d.str()
	f.At = ledger.Time(d.int())
	parts := d.uint()
	if parts&factTransition != 0 {
		t := &ledger.Transition{}
		t.ID, t.At, t.Type, t.Remark, t.Role, t.From, t.To = d.str(), ledger.Time(d.int()), d.int(), d.str(), d.int(), d.str(), d.str()
		f.Transition = t
	}
	if parts&factPosting != 0 {
		p := &ledger.Posting{}
		p.ID, p.Kind, p.Goods, p.Carriage, p.Amount, p.At = d.str(), d.str(), d.int(), d.int(), d.int(), ledger.Time(d.int())
		f.Posting = p
	}
	if parts&factAnomaly != 0 {
		f.Anomaly = &ledger.Anomaly{Code: d.str(), Detail: d.str(), Ref: d.str()}
	}
	if parts&factOrder != 0 {
		o := &ledger.OrderTotals{Type: d.str(), Status: d.str()}
		o.PayStatus, o.TotalAmount, o.ShippingFee, o.ProductAmount, o.At = d.int(), d.int(), d.int(), d.int(), ledger.Time(d.int())
		f.Order = o
	}
	if d.err == nil && (len(d.b) != 0 || parts >= factOrder<<1) {
		d.err = fmt.Errorf("%w: fact %q has trailing bytes or unknown parts", errCorrupt, f.ID)
	}
	if d.err != nil {
		return ledger.Fact{}, d.err
	}
	return f, nil
}

// factList builds the stored form of the facts of one callback: the facts,
// each length-prefixed, behind a format byte and their count. The zero value
// is empty; reset starts it again keeping its memory.
type factList struct {
	n    int
	body []byte // the facts, each as a uvarint length and encodeFact's bytes
	one  []byte // scratch for a fact
}

func (l *factList) add(f *ledger.Fact) {
	l.one = encodeFact(l.one[:0], f)
	l.body = binary.AppendUvarint(l.body, uint64(len(l.one)))
	l.body = append(l.body, l.one...)
	l.n++
}

func (l *factList) reset() { l.n, l.body = 0, l.body[:0] }

// appendTo appends the stored form to buf.
func (l *factList) appendTo(buf []byte) []byte {
	buf = binary.AppendUvarint(append(buf, formatFactsV1), uint64(l.n))
	return append(buf, l.body...)
}

// decodeFacts reads the stored facts of one callback (formatFactsV1).
func decodeFacts(b []byte) ([]ledger.Fact, error) {
	if len(b) == 0 || b[0] != formatFactsV1 {
		return nil, fmt.Errorf("%w: not a list of facts (format byte %v)", errCorrupt, b[:min(len(b), 1)])
	}
	d := decoder{b: b[1:]}
	n := d.count()
	facts := make([]ledger.Fact, 0, n)
	for range n {
		size := d.count()
		if d.err != nil {
			break
		}
		f, err := decodeFact(d.b[:size])
		if err != nil {
			return nil, err
		}
		facts = append(facts, f)
		d.b = d.b[size:]
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%w: %d bytes after %d facts", errCorrupt, len(d.b), n)
	}
	if d.err != nil {
		return nil, d.err
	}
	return facts, nil
}

// encodeDelivery appends the stored form of a delivery to buf.
func encodeDelivery(buf []byte, dv *Delivery) []byte {
	e := encoder{b: append(buf, formatDeliveryV1)}
	e.uint(dv.Seq)
	e.int(dv.ReceivedAt)
	e.int(dv.PushedAt)
	e.int(dv.RetryCount)
	e.str(dv.MessageID)
	e.bool(dv.Duplicate)
	return e.b
}

// decodeDelivery reads a stored delivery.
func decodeDelivery(b []byte) (Delivery, error) {
	var dv Delivery
	if len(b) == 0 || b[0] != formatDeliveryV1 {
		return dv, fmt.Errorf("%w: not a delivery (format byte %v)", errCorrupt, b[:min(len(b), 1)])
	}
	d := newDecoder(b[1:])
	dv.Seq, dv.ReceivedAt, dv.PushedAt, dv.RetryCount, dv.MessageID, dv.Duplicate = d.uint(), d.int(), d.int(), d.int(), d.str(), d.bool()
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%w: %d bytes after a delivery", errCorrupt, len(d.b))
	}
	return dv, d.err
}
