package projections

import (
	"errors"

	"refundledger/ledger"
)

// CPUTime is cpuTime for the benchmarks of the external test package.
var CPUTime = cpuTime

// StreamSeq is streamSeq, for a test against a real consumer.
var StreamSeq = streamSeq

// SetFoldVersion lets tests pretend a projection was built by another fold.
func (s *Store) SetFoldVersion(v string) error {
	return s.db.Set(keyFoldVersion, []byte(v), nil)
}

// Corrupt overwrites one key of the store, to show that an audit notices.
func (s *Store) Corrupt(key string, value []byte) error {
	return s.db.Set([]byte(key), value, nil)
}

// SetLayout lets tests pretend a projection was written by another layout
// ("" removes the key, as layout 1 never wrote it).
func (s *Store) SetLayout(v string) error {
	if v == "" {
		return s.db.Delete(keyLayout, nil)
	}
	return s.db.Set(keyLayout, []byte(v), nil)
}

// DropOutboxFacts rewrites the outbox without the facts drop selects, as a
// fold that never derived them would have written it.
func (s *Store) DropOutboxFacts(drop func(ledger.Fact) bool) error {
	type entry struct{ k, v []byte }
	var rewrites []entry
	var ferr error
	err := s.scanFrom([]byte("outbox/"), []byte("outbox/"), func(k, v []byte) bool {
		facts, err := decodeFacts(v)
		if err != nil {
			ferr = err
			return false
		}
		var l factList
		for i := range facts {
			if !drop(facts[i]) {
				l.add(&facts[i])
			}
		}
		rewrites = append(rewrites, entry{append([]byte(nil), k...), l.appendTo(nil)})
		return true
	})
	if err = errors.Join(err, ferr); err != nil {
		return err
	}
	for _, e := range rewrites {
		if err := s.db.Set(e.k, e.v, nil); err != nil {
			return err
		}
	}
	return nil
}
