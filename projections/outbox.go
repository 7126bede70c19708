package projections

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"refundledger/ledger"
)

// OutboxEntry is a fact waiting in the outbox, with the stream sequence of
// the callback that made it true.
type OutboxEntry struct {
	Seq  uint64      `json:"seq"`
	N    int         `json:"n"` // index among the facts of that callback
	Fact ledger.Fact `json:"fact"`
}

// Outbox returns up to limit facts from the outbox, in the order they became
// true, starting with those of stream sequence afterSeq+1.
func (s *Store) Outbox(afterSeq uint64, limit int) ([]OutboxEntry, error) {
	return s.OutboxAfter(afterSeq, math.MaxInt, limit)
}

// OutboxAfter returns up to limit facts that come after fact (seq, n), in
// outbox order; n = -1 starts with the first fact of seq, math.MaxInt with
// the first of the next callback that has facts. A callback may have any
// number of facts (layout 1 numbered them in four digits, but no callback it
// stored had 10,000). It reads both layouts' keys: outbox/<seq> with the
// callback's facts, and layout 1's outbox/<seq>/<nnnn> with one fact, which
// a store being rebuilt for the new layout still holds while its relay
// publishes.
func (s *Store) OutboxAfter(seq uint64, n, limit int) ([]OutboxEntry, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []OutboxEntry
	var err error
	prefix := []byte("outbox/")
	serr := s.scanFrom(prefix, outboxKey(seq), func(k, v []byte) bool {
		if len(k) < len(prefix)+8 {
			err = fmt.Errorf("outbox key %q: too short", k)
			return false
		}
		kseq := binary.BigEndian.Uint64(k[len(prefix):])
		switch rest := k[len(prefix)+8:]; len(rest) {
		case 0:
			var facts []ledger.Fact
			if facts, err = decodeFacts(v); err != nil {
				err = fmt.Errorf("outbox %d: %w", kseq, err)
				return false
			}
			for i, f := range facts {
				if kseq == seq && i <= n {
					continue
				}
				out = append(out, OutboxEntry{Seq: kseq, N: i, Fact: f})
				if len(out) == limit {
					return false
				}
			}
			return true
		default: // layout 1: /<nnnn>
			e := OutboxEntry{Seq: kseq}
			if e.N, err = strconv.Atoi(string(rest[1:])); err != nil || rest[0] != '/' {
				err = fmt.Errorf("outbox key %q: not a fact index", k)
				return false
			}
			if kseq == seq && e.N <= n {
				return true
			}
			if e.Fact, err = decodeFact(v); err != nil {
				err = fmt.Errorf("outbox %d: %w", kseq, err)
				return false
			}
			out = append(out, e)
			return len(out) < limit
		}
	})
	if err == nil {
		err = serr
	}
	return out, err
}
