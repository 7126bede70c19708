package projections

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"refundledger/ledger"
	"refundledger/proto"
)

// Limits of ListRefunds.
const (
	DefaultListLimit = 50   // refunds per page when the caller names none
	MaxListLimit     = 1000 // the most refunds one page returns
)

// ErrBadCursor is returned by ListRefunds for a cursor it did not issue.
var ErrBadCursor = errors.New("invalid cursor")

// RefundFilter selects refunds. Empty fields do not filter. OrderID, Status,
// Phase and UpdatedSince each have an index; the most selective one present
// is scanned and the other filters are applied to what it yields.
type RefundFilter struct {
	Platform     proto.Platform
	Status       string
	Phase        string
	OrderID      string
	UpdatedSince int64 // epoch ms; refunds updated at or after it
	Limit        int   // 0: DefaultListLimit; capped at MaxListLimit
	Cursor       string
}

// RefundPage is one page of ListRefunds. Next is "" on the last page.
type RefundPage struct {
	Refunds []ledger.Refund `json:"refunds"`
	Next    string          `json:"next"`
}

// ListRefunds returns a page of refunds matching f, in the order of the
// index it scans. Pages are stable: a cursor continues after the last refund
// of its page, whatever was written since.
func (s *Store) ListRefunds(f RefundFilter) (RefundPage, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultListLimit
	}
	limit = min(limit, MaxListLimit)
	var prefix, start []byte
	switch {
	case f.OrderID != "":
		prefix = []byte(ixOrder + esc(f.OrderID) + "/")
	case f.Status != "":
		prefix = []byte(ixStatus + esc(f.Status) + "/")
	case f.Phase != "":
		prefix = []byte(ixPhase + esc(f.Phase) + "/")
	case f.UpdatedSince > 0:
		prefix = []byte(ixUpdated)
		start = binary.BigEndian.AppendUint64([]byte(ixUpdated), uint64(f.UpdatedSince))
	case f.Platform != "":
		prefix = []byte("refund/" + esc(string(f.Platform)) + "/")
	default:
		prefix = []byte("refund/")
	}
	if start == nil {
		start = prefix
	}
	var after []byte
	if f.Cursor != "" {
		c, err := base64.RawURLEncoding.DecodeString(f.Cursor)
		if err != nil || !bytes.HasPrefix(c, prefix) {
			return RefundPage{}, ErrBadCursor
		}
		after, start = c, c
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.broken != nil {
		return RefundPage{}, s.broken
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return RefundPage{}, err
	}
	defer it.Close()
	page := RefundPage{Refunds: []ledger.Refund{}}
	var last []byte
	for ok := it.SeekGE(start); ok; ok = it.Next() {
		k := it.Key()
		if after != nil && bytes.Equal(k, after) {
			continue
		}
		if len(page.Refunds) == limit {
			page.Next = base64.RawURLEncoding.EncodeToString(last)
			break
		}
		p, id, ok := refundOfIndexKey(k)
		if !ok || (f.Platform != "" && p != f.Platform) {
			continue
		}
		rk := refundKey(p, id)
		b, err := s.getLocked(rk)
		rec, err := decodeRefundAt(rk, b, err)
		if err != nil {
			return RefundPage{}, fmt.Errorf("list: index entry %q: %w", k, err)
		}
		st := rec.State
		if (f.Status != "" && st.Status != f.Status) || (f.Phase != "" && st.Phase != f.Phase) ||
			(f.OrderID != "" && st.OrderID != f.OrderID) || int64(st.UpdatedAt) < f.UpdatedSince {
			continue
		}
		page.Refunds = append(page.Refunds, st)
		last = append(last[:0], k...)
	}
	return page, it.Error()
}

// History is everything the ledger knows of how a refund came to be.
type History struct {
	Platform    proto.Platform      `json:"platform"`
	RefundID    string              `json:"refundId"`
	Deliveries  []Delivery          `json:"deliveries"`
	Operations  []ledger.Transition `json:"operations"`
	Postings    []ledger.Posting    `json:"postings"`
	Anomalies   []ledger.Anomaly    `json:"anomalies"`
	Quarantined []Quarantined       `json:"quarantined,omitempty"`
}

// RefundHistory returns the deliveries (in stream order), operations,
// transitions and postings of a refund, or ErrNotFound.
func (s *Store) RefundHistory(p proto.Platform, refundID string) (History, error) {
	rec, err := s.Refund(p, refundID)
	if err != nil {
		return History{}, err
	}
	h := History{Platform: p, RefundID: refundID, Deliveries: []Delivery{},
		Operations: rec.State.Operations, Postings: rec.State.Postings, Anomalies: rec.State.Anomalies}
	prefix := deliveryKey(p, refundID, 0)
	prefix = prefix[:len(prefix)-8]
	var derr error
	err = s.scan(prefix, func(_, v []byte) bool {
		var d Delivery
		if d, derr = decodeDelivery(v); derr != nil {
			return false
		}
		h.Deliveries = append(h.Deliveries, d)
		return true
	})
	return h, errors.Join(err, derr)
}
