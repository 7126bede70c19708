package projections

import (
	"encoding/json"
	"fmt"
)

// Quarantine returns up to limit quarantine records with stream sequence
// after afterSeq, in stream order.
func (s *Store) Quarantine(afterSeq uint64, limit int) ([]Quarantined, error) {
	var out []Quarantined
	var err error
	serr := s.scanFrom([]byte("quarantine/"), quarantineKey(afterSeq+1), func(_, v []byte) bool {
		var q Quarantined
		if err = json.Unmarshal(v, &q); err != nil {
			err = fmt.Errorf("quarantine record: %w", err)
			return false
		}
		out = append(out, q)
		return len(out) < limit
	})
	if err == nil {
		err = serr
	}
	return out, err
}
