package projections

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"refundledger/ledger"
)

// OutboxEntry is a fact waiting in the outbox, with the stream sequence of
// the callback that made it true.
type OutboxEntry struct {
	Seq  uint64      `json:"seq"`
	Fact ledger.Fact `json:"fact"`
}

// Outbox returns up to limit facts from the outbox, in the order they became
// true, starting with those of stream sequence afterSeq+1.
func (s *Store) Outbox(afterSeq uint64, limit int) ([]OutboxEntry, error) {
	var out []OutboxEntry
	var err error
	start := binary.BigEndian.AppendUint64([]byte("outbox/"), afterSeq+1)
	serr := s.scanFrom([]byte("outbox/"), start, func(k, v []byte) bool {
		var e OutboxEntry
		e.Seq = binary.BigEndian.Uint64(k[len("outbox/"):])
		if err = json.Unmarshal(v, &e.Fact); err != nil {
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
