package projections

import (
	"encoding/binary"
	"fmt"
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
	return s.OutboxAfter(afterSeq, maxFactIndex, limit)
}

// maxFactIndex is past the last fact index any callback can have (outbox
// keys hold it in four digits).
const maxFactIndex = 9999

// OutboxAfter returns up to limit facts that come after fact (seq, n), in
// outbox order; n = -1 starts with the first fact of seq.
func (s *Store) OutboxAfter(seq uint64, n, limit int) ([]OutboxEntry, error) {
	var out []OutboxEntry
	var err error
	start := outboxKey(seq, n+1)
	if n+1 > maxFactIndex {
		start = outboxKey(seq+1, 0)
	}
	serr := s.scanFrom([]byte("outbox/"), start, func(k, v []byte) bool {
		var e OutboxEntry
		e.Seq = binary.BigEndian.Uint64(k[len("outbox/"):])
		e.N, err = strconv.Atoi(string(k[len("outbox/")+9:]))
		if err != nil {
			err = fmt.Errorf("outbox key %q: %w", k, err)
			return false
		}
		if e.Fact, err = decodeFact(v); err != nil {
			err = fmt.Errorf("outbox %d: %w", e.Seq, err)
			return false
		}
		out = append(out, e)
		return len(out) < limit
	})
	if err == nil {
		err = serr
	}
	return out, err
}
